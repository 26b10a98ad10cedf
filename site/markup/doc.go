// Package markup turns Markdown into HTML as Jekyll's kramdown does
// (the GFM parser, kramdown's extensions: IALs, abbreviations, footnotes,
// typographic characters) and highlights code as Rouge's HTML formatter
// does. It knows nothing of sites, Liquid or front matter.
package markup
