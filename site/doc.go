// Package site renders a Jekyll source tree into the files Jekyll 4.3
// would write: pages, posts and collections through Liquid (package
// site/liquid), Markdown as kramdown writes it (site/markup), the
// built-in Jekyll plugins (site/plugins), layouts, includes, data files,
// permalinks, Sass and static files. The result is an fs.FS of the
// output; serving it is the tls/web package's job. OpenSource reads a
// source folder for it, confined to that folder.
package site
