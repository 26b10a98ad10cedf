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
