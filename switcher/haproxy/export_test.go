package haproxy

import "github.com/bgmigrate/bgmigrate/switcher"

// SetAfterRuntime makes s, a map-mode switcher, call f between the change
// of the running HAProxy and the one of the map file.
func SetAfterRuntime(s switcher.Switcher, f func()) { s.(*MapSwitcher).afterRuntime = f }
