package sockets

import (
	"reflect"
	"testing"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// libraryDecode is what the library's own decoder makes of s.
func libraryDecode(s string) (*parser.Packet, error) {
	d := parser.NewDecoder()
	var got *parser.Packet
	_ = d.On("decoded", func(args ...any) { got = args[0].(*parser.Packet) })
	err := d.Add(types.NewStringBufferString(s))
	return got, err
}

// The short path decodes the events clients send as the library does, and
// leaves the rest to it.
func TestDecodeEvent(t *testing.T) {
	for _, tc := range []struct {
		in    string
		short bool // decoded by decodeEvent
	}{
		{`2["order:subscribe",{"orderId":"o-1","token":"t.x","since":3}]`, true},
		{`217["order:subscribe",{"orderId":"o-1"}]`, true},
		{`21234567890123456789["e"]`, true},
		{`2["order:message",{"orderId":"o-1","body":"héllo ✓ <b>"}]`, true},
		{`212345678901234567890["e"]`, false}, // 20 digits: the library's to judge
		{`2["e",1,-0.5,2e3,1E-2,true,false,null,[],{},[1,[2,{"a":[]}]],{"k":{"k":"v"},"k":2}]`, true},
		{`2["e",""]`, true},
		{`2["e"]`, true},
		{`2[]`, false},               // no event name: the library's error
		{`2[1]`, false},              // a numeric event name: the library's
		{`2["connect"]`, false},      // reserved
		{`2["e" ,1]`, false},         // whitespace
		{`2 ["e"]`, false},           // whitespace
		{`2["e\n"]`, false},          // an escape
		{`2["e","\u00e9"]`, false},   // an escape
		{"2[\"e\",\"\x01\"]", false}, // a control character: invalid JSON
		{"2[\"e\",\"\xff\"]", false}, // invalid UTF-8
		{`2["e",01]`, false},         // invalid number
		{`2["e",1e999]`, false},      // out of range
		{`2["e",-]`, false},          // invalid number
		{`2["e",1.]`, false},         // invalid number
		{`2["e",tru]`, false},        // invalid literal
		{`2["e",{"a" :1}]`, false},   // whitespace
		{`2["e",{"a":1,}]`, false},   // trailing comma
		{`2["e",{a:1}]`, false},      // unquoted key
		{`2["e"]]`, false},           // trailing bytes
		{`2["e"]x`, false},           // trailing bytes (the library takes them)
		{`2/admin,["e"]`, false},     // a namespace
		{`3["e"]`, false},            // an ACK
		{`51-["e",{"_placeholder":true,"num":0}]`, false},
		{`2["e",[[[[[[[[[1]]]]]]]]]]`, false}, // deeper than eventMaxDepth
		{`2["e",[[[[[[[1]]]]]]]]`, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := decodeEvent([]byte(tc.in))
			if ok != tc.short {
				t.Fatalf("short path %v, want %v", ok, tc.short)
			}
			if !ok {
				return
			}
			want, err := libraryDecode(tc.in)
			if err != nil {
				t.Fatalf("the library refuses it: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %#v\nthe library %#v", got, want)
			}
		})
	}
}

// FuzzEventDecode: whatever the short path decodes, the library decodes
// the same way.
func FuzzEventDecode(f *testing.F) {
	f.Add(`21["order:subscribe",{"orderId":"o-1","token":"t.x"}]`)
	f.Add(`2["e",1,-0.5,2e3,true,null,[],{},[1,[2,{"a":[]}]]]`)
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := decodeEvent([]byte(s))
		if !ok {
			return
		}
		want, err := libraryDecode(s)
		if err != nil {
			t.Fatalf("%q: decoded, but the library refuses it: %v", s, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: got %#v\nthe library %#v", s, got, want)
		}
	})
}

// Through Add: every packet reaches the listener, the short path's and the
// library's alike, and once a binary packet has come, the library decodes
// everything (it is waiting for the attachment).
func TestEventDecoderAdd(t *testing.T) {
	d := strictParser{}.NewDecoder()
	var got []*parser.Packet
	_ = d.On("decoded", func(args ...any) { got = append(got, args[0].(*parser.Packet)) })
	add := func(data any) {
		t.Helper()
		if err := d.Add(data); err != nil {
			t.Fatalf("%v: %v", data, err)
		}
	}
	add(types.NewStringBufferString(`0`))
	add(types.NewStringBufferString(`2["a"]`))
	add(types.NewStringBufferString(`51-["b",{"_placeholder":true,"num":0}]`))
	if err := d.Add(types.NewStringBufferString(`2["c"]`)); err == nil {
		t.Fatal("a text packet while an attachment is awaited was taken")
	}
	add(types.NewBytesBuffer([]byte{1}))
	add(types.NewStringBufferString(`2["d"]`))
	var names []any
	for _, p := range got {
		if args, ok := p.Data.([]any); ok {
			names = append(names, args[0])
		}
	}
	if len(got) != 4 || !reflect.DeepEqual(names, []any{"a", "b", "d"}) {
		t.Fatalf("decoded %d packets, events %v", len(got), names)
	}
}

// A subscribe's event costs a third of the library's allocations or less.
func TestDecodeEventAllocations(t *testing.T) {
	in := []byte(`21["order:subscribe",{"orderId":"o-1","token":"v1.abcdefghijklmnop","since":3}]`)
	short := testing.AllocsPerRun(200, func() {
		if _, ok := decodeEvent(in); !ok {
			t.Fatal("not decoded")
		}
	})
	d := parser.NewDecoder()
	_ = d.On("decoded", func(...any) {})
	lib := testing.AllocsPerRun(200, func() { _ = d.Add(types.NewStringBuffer(in)) })
	if short*3 > lib {
		t.Fatalf("%v allocations per event, the library %v", short, lib)
	}
	t.Logf("%v allocations per event, the library %v", short, lib)
}

// BenchmarkDecodeEvent: a subscribe's event through the library's decoder
// and through ordercast's.
func BenchmarkDecodeEvent(b *testing.B) {
	in := []byte(`21["order:subscribe",{"orderId":"o-1","token":"v1.abcdefghijklmnop","since":3}]`)
	for _, tc := range []struct {
		name string
		d    parser.Decoder
	}{{"library", parser.NewDecoder()}, {"ordercast", strictParser{}.NewDecoder()}} {
		b.Run(tc.name, func(b *testing.B) {
			_ = tc.d.On("decoded", func(...any) {})
			b.ReportAllocs()
			for b.Loop() {
				if err := tc.d.Add(types.NewStringBuffer(in)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
