// Package site renders a Jekyll source tree into the files Jekyll 4.3
// would write: pages, posts and collections through Liquid (package
// site/liquid) and kramdown-compatible Markdown (goldmark), layouts,
// includes, data files, permalinks and static files. The result is an
// fs.FS of the output; serving it is the tls package's job.
package site
