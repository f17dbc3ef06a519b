// Package docs embeds the machine-readable contract of ordercast: the
// OpenAPI 3.1 document of the HTTP API (served at /api/openapi.json) and the
// AsyncAPI 3.0 document of the Socket.IO events. The YAML files are the
// source; tests in handlers and e2e validate real traffic against them.
package docs

import (
	_ "embed"
	"sync"

	"github.com/goccy/go-yaml"
)

// OpenAPIYAML is docs/openapi.yaml as written.
//
//go:embed openapi.yaml
var OpenAPIYAML []byte

// AsyncAPIYAML is docs/asyncapi.yaml as written.
//
//go:embed asyncapi.yaml
var AsyncAPIYAML []byte

// OpenAPIJSON returns the OpenAPI document converted to JSON, once: YAML is
// for people, JSON for the tools that fetch /api/openapi.json.
var OpenAPIJSON = sync.OnceValues(func() ([]byte, error) {
	return yaml.YAMLToJSON(OpenAPIYAML)
})
