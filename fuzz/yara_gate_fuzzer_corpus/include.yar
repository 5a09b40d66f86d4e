include "x.yar"
rule a { condition: uint16(0) == 0x5a4d }
