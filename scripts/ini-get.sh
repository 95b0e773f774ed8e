#!/bin/sh
# Print one value of an INI file: scripts/ini-get.sh FILE SECTION KEY DEFAULT.
# Used only to tell lighttpd the base_path; the programs validate the file.
awk -v sec="$2" -v key="$3" -v def="$4" '
	BEGIN { found = 0 }
	/^[ \t]*[;#]/ { next }
	/^[ \t]*\[/ { s = $0; gsub(/^[ \t]*\[|\][ \t]*$/, "", s); cur = tolower(s); next }
	cur == tolower(sec) && index($0, "=") {
		k = substr($0, 1, index($0, "=") - 1); gsub(/[ \t]/, "", k)
		if (tolower(k) != tolower(key)) next
		v = substr($0, index($0, "=") + 1)
		sub(/[ \t]+[;#].*$/, "", v); gsub(/^[ \t"]+|[ \t"]+$/, "", v)
		print v; found = 1; exit
	}
	END { if (!found) print def }' "$1"
