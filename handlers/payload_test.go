package handlers

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzPayloadFromMap holds every mapDecoder to the strict decoder: what
// fromMap accepts, the strict decoder accepts with the same result, and
// what it refuses it leaves untouched. Seeds: testdata/fuzz.
func FuzzPayloadFromMap(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if json.Unmarshal(data, &v) != nil { // as the Socket.IO parser decodes
			return
		}
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		checkFromMap(t, m, new(subscribeIn), new(subscribeIn))
		checkFromMap(t, m, new(unsubscribeIn), new(unsubscribeIn))
		checkFromMap(t, m, new(typingIn), new(typingIn))
		checkFromMap(t, m, new(messageIn), new(messageIn))
	})
}

func checkFromMap[T any, P interface {
	*T
	mapDecoder
}](t *testing.T, m map[string]any, fast, strict P) {
	t.Helper()
	if !fast.fromMap(m) {
		if !reflect.DeepEqual(*fast, *new(T)) {
			t.Fatalf("%T.fromMap(%v) refused but wrote %+v", fast, m, *fast)
		}
		return
	}
	if err := decodePayload(payloadJSON([]any{m}), strict); err != nil {
		t.Fatalf("%T.fromMap(%v) accepted what the strict decoder refuses: %v", fast, m, err)
	}
	if !reflect.DeepEqual(fast, strict) {
		t.Fatalf("%T from %v: fromMap %+v, strict %+v", fast, m, *fast, *strict)
	}
}

func TestDecodeArgs(t *testing.T) {
	since := int64(7)
	tests := []struct {
		name    string
		payload string
		want    subscribeIn
		wantErr string
	}{
		{"fields", `{"orderId":"o-1","token":"t","since":7}`, subscribeIn{OrderID: "o-1", Token: "t", Since: &since}, ""},
		{"other case, strict decoder", `{"OrderID":"o-1"}`, subscribeIn{OrderID: "o-1"}, ""},
		{"unknown field", `{"orderId":"o-1","x":1}`, subscribeIn{}, `unknown field "x"`},
		{"fraction", `{"orderId":"o-1","since":1.5}`, subscribeIn{}, "since"},
		{"wrong type", `{"orderId":5}`, subscribeIn{}, "orderId"},
		{"not an object", `["o-1"]`, subscribeIn{}, "payload must be an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v any
			if err := json.Unmarshal([]byte(tt.payload), &v); err != nil {
				t.Fatal(err)
			}
			var in subscribeIn
			err := decodeArgs([]any{v}, &in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one about %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(in, tt.want) {
				t.Fatalf("decodeArgs = %+v, %v; want %+v", in, err, tt.want)
			}
		})
	}
}

// TestDecodeArgsReadsDecodedPayload: a subscribe's payload is read from
// the parser's map, not encoded back to JSON and decoded again (which
// allocates a dozen times).
func TestDecodeArgsReadsDecodedPayload(t *testing.T) {
	args := []any{map[string]any{"orderId": "o-1", "token": "t", "since": float64(3)}}
	var in subscribeIn
	allocs := testing.AllocsPerRun(100, func() {
		if err := decodeArgs(args, &in); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 { // since's *int64
		t.Fatalf("decodeArgs allocates %v times per subscribe payload, want at most 1", allocs)
	}
}
