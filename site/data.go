package site

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"islet.dev/islet/site/liquid"
)

// readData loads _data: YAML, JSON, CSV and TSV files, folders as
// nested hashes, as site.data.
func (s *Site) readData() error {
	s.data = liquid.NewMap()
	return s.readDataDir("_data", s.data)
}

func (s *Site) readDataDir(dir string, into *liquid.Map) error {
	entries, err := fs.ReadDir(s.src, dir)
	if err != nil {
		if isNotExist(err) {
			return nil
		}
		return fmt.Errorf("%s: %w", dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") && false {
			continue
		}
		p := path.Join(dir, name)
		if e.IsDir() {
			sub := liquid.NewMap()
			if err := s.readDataDir(p, sub); err != nil {
				return err
			}
			into.Set(name, sub)
			continue
		}
		ext := strings.ToLower(path.Ext(name))
		key := strings.TrimSuffix(name, path.Ext(name))
		src, err := fs.ReadFile(s.src, p)
		if err != nil {
			return err
		}
		var v any
		switch ext {
		case ".yml", ".yaml":
			v, err = decodeYAML(p, 1, src)
		case ".json":
			v, err = decodeJSON(p, src)
		case ".csv":
			v, err = decodeCSV(p, src, ',')
		case ".tsv":
			v, err = decodeCSV(p, src, '\t')
		default:
			continue
		}
		if err != nil {
			return err
		}
		into.Set(key, v)
	}
	return nil
}

func decodeJSON(file string, src []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(src))
	d.UseNumber()
	v, err := jsonValue(d)
	if err != nil {
		line := 1 + bytes.Count(src[:min(int(d.InputOffset()), len(src))], []byte("\n"))
		return nil, fmt.Errorf("%s:%d: bad JSON: %v", file, line, err)
	}
	return v, nil
}

// jsonValue decodes one JSON value keeping object key order.
func jsonValue(d *json.Decoder) (any, error) {
	t, err := d.Token()
	if err != nil {
		return nil, err
	}
	switch x := t.(type) {
	case json.Delim:
		switch x {
		case '{':
			m := liquid.NewMap()
			for d.More() {
				k, err := d.Token()
				if err != nil {
					return nil, err
				}
				v, err := jsonValue(d)
				if err != nil {
					return nil, err
				}
				m.Set(k.(string), v)
			}
			_, err := d.Token()
			return m, err
		case '[':
			out := []any{}
			for d.More() {
				v, err := jsonValue(d)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
			_, err := d.Token()
			return out, err
		}
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return int(i), nil
		}
		f, _ := x.Float64()
		return f, nil
	}
	return t, nil
}

// decodeCSV reads a table with a header row into a list of hashes.
func decodeCSV(file string, src []byte, sep rune) (any, error) {
	r := csv.NewReader(bytes.NewReader(src))
	r.Comma = sep
	if sep == '\t' {
		r.LazyQuotes = true
	}
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	out := []any{}
	if len(rows) == 0 {
		return out, nil
	}
	head := rows[0]
	for _, row := range rows[1:] {
		m := liquid.NewMap()
		for i, h := range head {
			if i < len(row) {
				m.Set(h, row[i])
			} else {
				m.Set(h, nil)
			}
		}
		out = append(out, m)
	}
	return out, nil
}
