package appliance

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"islet.dev/islet/zones"
)

// DNSSECConfig is islet.yml's dnssec: "sign" signs every zone (that has
// no DNSKEY of its own), "off" none; a mapping says more:
//
//	dnssec:
//	  sign: [example.org, example.net]   # or all
//	  denial: nsec3                      # nsec (default), nsec3 or compact
//	  algorithm: ed25519                 # of new keys; ecdsap256sha256 by default
//	  keys: keys/                        # bake this folder's keys into the image
//
// The keys live on the state disk unless keys names a folder of the
// appliance, whose keys then go into the image: only when asked.
type DNSSECConfig struct {
	Zones     []string // signed zones; "*": every zone
	Denial    string
	Algorithm string
	Keys      string
}

// UnmarshalYAML reads the scalar and the mapping forms.
func (d *DNSSECConfig) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Value {
		case "sign":
			d.Zones = []string{"*"}
		case "off", "":
		default:
			return fmt.Errorf("line %d: dnssec: %q: want sign, off or a mapping", n.Line, n.Value)
		}
		return nil
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch k := n.Content[i]; k.Value {
			case "sign", "denial", "algorithm", "keys":
			default:
				return fmt.Errorf("line %d: field %s not found in dnssec (sign, denial, algorithm, keys)", k.Line, k.Value)
			}
		}
		var m struct {
			Sign      yaml.Node `yaml:"sign"`
			Denial    string    `yaml:"denial"`
			Algorithm string    `yaml:"algorithm"`
			Keys      string    `yaml:"keys"`
		}
		if err := n.Decode(&m); err != nil {
			return err
		}
		switch m.Sign.Kind {
		case 0:
			d.Zones = []string{"*"}
		case yaml.ScalarNode:
			switch m.Sign.Value {
			case "all", "true":
				d.Zones = []string{"*"}
			case "false", "none":
			default:
				d.Zones = []string{m.Sign.Value}
			}
		case yaml.SequenceNode:
			if err := m.Sign.Decode(&d.Zones); err != nil {
				return err
			}
		default:
			return fmt.Errorf("line %d: dnssec: sign: want all or a list of zones", m.Sign.Line)
		}
		if _, err := zones.ParseDenial(m.Denial); err != nil {
			return fmt.Errorf("line %d: dnssec: %v", n.Line, err)
		}
		if _, err := zones.ParseAlgorithm(m.Algorithm); err != nil {
			return fmt.Errorf("line %d: dnssec: %v", n.Line, err)
		}
		for i, z := range d.Zones {
			if z != "*" {
				d.Zones[i] = strings.ToLower(strings.TrimSuffix(z, ".")) + "."
			}
		}
		d.Denial, d.Algorithm, d.Keys = m.Denial, m.Algorithm, m.Keys
		return nil
	}
	return fmt.Errorf("line %d: dnssec: want sign, off or a mapping", n.Line)
}

// Enabled reports whether any zone is signed.
func (d *DNSSECConfig) Enabled() bool { return len(d.Zones) > 0 }

// SignerOptions turns the settings into a Signer's options.
func (d *DNSSECConfig) SignerOptions() zones.SignOptions {
	denial, _ := zones.ParseDenial(d.Denial) // checked when read
	opt := zones.SignOptions{Denial: denial}
	if !slices.Contains(d.Zones, "*") {
		opt.Zones = d.Zones
	}
	return opt
}

// AlgorithmNumber is the algorithm of new keys.
func (d *DNSSECConfig) AlgorithmNumber() uint8 {
	a, _ := zones.ParseAlgorithm(d.Algorithm) // checked when read
	return a
}

// KeysDir is the folder of keys baked into the image, "" when the keys
// live on the state disk.
func (c *Config) KeysDir() string {
	if c.DNSSEC.Keys == "" {
		return ""
	}
	return c.path(filepath.Clean(c.DNSSEC.Keys))
}

// NewSigner opens the key folder dir and returns the signer of
// settings d.
func (d *DNSSECConfig) NewSigner(dir string) (*zones.Signer, error) {
	ks, err := zones.OpenKeyStore(dir, d.AlgorithmNumber())
	if err != nil {
		return nil, err
	}
	return zones.NewSigner(ks, d.SignerOptions()), nil
}
