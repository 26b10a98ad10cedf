// Package plugins holds the Jekyll plugins built into islet
// (jekyll-redirect-from, jekyll-paginate, jekyll-feed, jekyll-sitemap,
// jekyll-seo-tag), each behind the small Plugin interface: the Liquid
// tags it adds and the pages it generates, through what the renderer
// lets a plugin see of a site (Site, Page). It renders nothing itself.
package plugins
