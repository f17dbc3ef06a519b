package handlers

import (
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/ordercast/ordercast/docs"
)

// openAPI serves docs/openapi.yaml as JSON (GET /api/openapi.json); it is
// public, like the contract it describes.
func openAPI(c *gin.Context) {
	b, err := docs.OpenAPIJSON()
	if err != nil {
		abort(c, fmt.Errorf("openapi document: %w", err))
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", b)
}
