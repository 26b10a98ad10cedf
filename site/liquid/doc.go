// Package liquid renders Liquid templates as Ruby Liquid 5.4 (the
// version Jekyll 4.3 runs) renders them: the same tags, filters,
// whitespace control, truthiness, number formatting and comparison
// rules. Values are plain Go values: nil, bool, int, float64, string,
// time.Time, []any, map[string]any, and Drops for lazily computed
// objects. Errors name the template and line.
package liquid
