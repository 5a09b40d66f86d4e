import "pe"
import "math"

private rule Helper { strings: $a = "helper" condition: $a }

rule Gated : tag { meta: d = "x" strings: $h = { 4D 5A ?? [2-4] } condition:
  uint16(0) == 0x5a4d and $h }

rule PeTerm { strings: $s = "abc" condition: $s and not pe.number_of_signatures > 0 }

rule PeOr { strings: $s = "abc" condition:
  pe.imphash() == "00112233445566778899aabbccddeeff" or
  ( pe.exports("Run") and pe.characteristics & pe.DLL ) or
  $s at pe.entry_point or
  for any i in (0 .. pe.number_of_signatures) : ( pe.signatures[i].issuer contains "CA" ) or
  pe.is_pe or Helper }

rule Plain { condition: math.entropy(0, filesize) > 7 and filesize < 10KB }
