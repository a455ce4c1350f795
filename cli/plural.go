package cli

import "fmt"

// plural is n and the noun, singular for one ("1 trust code", "2 trust
// codes"); many is the plural when it is not one+"s".
func plural[N ~int | ~int64](n N, one string, many ...string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	if len(many) > 0 {
		return fmt.Sprintf("%d %s", n, many[0])
	}
	return fmt.Sprintf("%d %ss", n, one)
}
