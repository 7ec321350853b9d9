package phases

import "github.com/bgmigrate/bgmigrate/parser"

// BinaryCompatible reports whether changing a column from old to new keeps
// its stored bytes, so PostgreSQL neither rewrites the table nor rebuilds its
// indexes (the cases strong_migrations allows): varchar widened or made
// unlimited, varchar to text, numeric precision raised at the same scale,
// timestamp/time/interval precision raised, cidr to inet.
func BinaryCompatible(old, new parser.TypeName) bool {
	if old.Array != new.Array {
		return false
	}
	if old.Name == new.Name && sameMods(old.Mods, new.Mods) {
		return true
	}
	switch old.Name {
	case "varchar":
		switch new.Name {
		case "text":
			return true
		case "varchar":
			return len(new.Mods) == 0 || (len(old.Mods) == 1 && new.Mods[0] >= old.Mods[0])
		}
	case "text":
		return new.Name == "varchar" && len(new.Mods) == 0
	case "numeric":
		if new.Name != "numeric" {
			return false
		}
		if len(new.Mods) == 0 {
			return true
		}
		if len(old.Mods) == 0 {
			return false
		}
		return new.Mods[0] >= old.Mods[0] && scale(new.Mods) == scale(old.Mods)
	case "timestamp", "timestamptz", "time", "timetz", "interval":
		if new.Name != old.Name {
			return false
		}
		return len(new.Mods) == 0 || (len(old.Mods) == 1 && new.Mods[0] >= old.Mods[0])
	case "cidr":
		return new.Name == "inet"
	case "bit varying", "varbit":
		return (new.Name == "varbit" || new.Name == "bit varying") && (len(new.Mods) == 0 || (len(old.Mods) == 1 && new.Mods[0] >= old.Mods[0]))
	}
	return false
}

func scale(mods []int64) int64 {
	if len(mods) > 1 {
		return mods[1]
	}
	return 0
}

func sameMods(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
