rule a { condition: not uint16(0) == 0x5a4d and true }
