package docs

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/goccy/go-yaml"
)

// TestOpenAPIValid loads the served JSON form and checks it as OpenAPI,
// examples included, so a broken document fails here before any handler
// test blames the server.
func TestOpenAPIValid(t *testing.T) {
	b, err := OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if v["openapi"] != "3.1.0" {
		t.Fatalf("openapi = %v", v["openapi"])
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatal(err)
	}
}

// TestAsyncAPIParses checks that the AsyncAPI document is YAML with the
// channels and operations the e2e validators look up.
func TestAsyncAPIParses(t *testing.T) {
	var v struct {
		AsyncAPI   string         `yaml:"asyncapi"`
		Channels   map[string]any `yaml:"channels"`
		Operations map[string]struct {
			Action  string `yaml:"action"`
			Channel struct {
				Ref string `yaml:"$ref"`
			} `yaml:"channel"`
		} `yaml:"operations"`
	}
	if err := yaml.Unmarshal(AsyncAPIYAML, &v); err != nil {
		t.Fatal(err)
	}
	if v.AsyncAPI != "3.0.0" {
		t.Fatalf("asyncapi = %q", v.AsyncAPI)
	}
	if len(v.Operations) == 0 {
		t.Fatal("no operations")
	}
	for name, op := range v.Operations {
		if op.Action != "send" && op.Action != "receive" {
			t.Errorf("%s: action %q", name, op.Action)
		}
	}
}

// TestSharedSchemas keeps the schemas both documents define identical, so
// an order or event means the same over HTTP and Socket.IO.
func TestSharedSchemas(t *testing.T) {
	schemas := func(b []byte) map[string]any {
		var v struct {
			Components struct {
				Schemas map[string]any `yaml:"schemas"`
			} `yaml:"components"`
		}
		if err := yaml.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		return v.Components.Schemas
	}
	api, async := schemas(OpenAPIYAML), schemas(AsyncAPIYAML)
	for _, name := range []string{"OrderID", "Status", "Timestamp", "Item", "Order", "StatusEvent", "MessageEvent", "Event", "ErrorCode"} {
		a, _ := json.Marshal(api[name])
		b, _ := json.Marshal(async[name])
		if api[name] == nil || string(a) != string(b) {
			t.Errorf("schema %s differs:\nopenapi.yaml:  %s\nasyncapi.yaml: %s", name, a, b)
		}
	}
}
