private rule p { condition: (uint16be(0) == 0x4d5a and filesize < 10KB) and pe.is_pe }
global rule g { condition: uint16(0)==0x5A4D }
