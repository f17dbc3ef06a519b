package handlers

import (
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"
)

// pageCSP keeps every page to its own assets: no inline script, no CDN.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// page serves one page of files with the pages' security headers.
func page(files fs.FS, name string) gin.HandlerFunc {
	return func(c *gin.Context) {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			abort(c, &Error{http.StatusNotFound, CodeNotFound, "no such page"})
			return
		}
		hd := c.Writer.Header()
		hd.Set("Content-Security-Policy", pageCSP)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer") // tracking tokens live in URLs
		hd.Set("Cache-Control", "no-cache")
		c.Data(http.StatusOK, "text/html; charset=utf-8", b)
	}
}
