rule a { strings: $a = { 4D /* } */ 5A } condition: uint16(0) == 0x5a4d and $a }
