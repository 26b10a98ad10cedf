package images

import "testing"

// TestImageVolume: a deployment prunes its own images' volumes only,
// never its state disk nor another deployment's whose name starts
// alike.
func TestImageVolume(t *testing.T) {
	for _, c := range []struct {
		vol  string
		want bool
	}{
		{"web-0123456789ab-vmlinuz", true},
		{"web-0123456789ab-initramfs.gz", true},
		{"web-state.img", false},
		{"web-2-0123456789ab-vmlinuz", false},
		{"web-2-state.img", false},
		{"web-0123456789ab-notes", false},
		{"web-zz23456789ab-vmlinuz", false},
		{"webx-0123456789ab-vmlinuz", false},
	} {
		if got := imageVolume("web", c.vol); got != c.want {
			t.Errorf("imageVolume(web, %s) = %v, want %v", c.vol, got, c.want)
		}
	}
}

// TestCheckBoot: a deploy's boot settings are single words of the form
// islet.NAME=VALUE, as the guest reads them from its command line.
func TestCheckBoot(t *testing.T) {
	for _, c := range []struct {
		setting string
		ok      bool
	}{
		{"islet.rrl=0", true},
		{"islet.metrics=:9153", true},
		{"islet.log-level=debug", true},
		{"islet.rrl", false},
		{"islet.=1", false},
		{"rrl=0", false},
		{"init=/bin/sh", false},
		{"islet.a=b c", false},
		{"islet.a=\"b\"", false},
		{"", false},
	} {
		if err := CheckBoot([]string{c.setting}); (err == nil) != c.ok {
			t.Errorf("CheckBoot(%q) = %v, want ok %v", c.setting, err, c.ok)
		}
	}
}
