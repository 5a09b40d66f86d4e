import "pe"
rule a : t1 t2 {
 meta: d = "uint16(0) == 0x5a4d or"
 strings: $a = "x" wide
 $h = { 4D 5A [2-4] ( 90 | ?? ) // c
 }
 $r = /a\/b/is
 condition:
 uint16(0) == 0x5a4d and $a and (#h > 1 or $r)
}
