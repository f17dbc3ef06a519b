package origin

import "testing"

func TestList(t *testing.T) {
	tests := []struct {
		list   List
		origin string
		want   bool
	}{
		{nil, "https://shop.example", false},
		{List{"https://shop.example"}, "https://shop.example", true},
		{List{"https://shop.example"}, "HTTPS://SHOP.EXAMPLE", true},
		{List{"https://shop.example"}, "https://evil.example", false},
		{List{"*"}, "https://evil.example", true},
	}
	for _, tt := range tests {
		if got := tt.list.Allows(tt.origin); got != tt.want {
			t.Errorf("%v.Allows(%q) = %v, want %v", tt.list, tt.origin, got, tt.want)
		}
	}
}

func TestSame(t *testing.T) {
	tests := []struct {
		origin, host string
		want         bool
	}{
		{"http://localhost:8080", "localhost:8080", true},
		{"http://localhost:8080", "localhost:8081", false},
		{"null", "localhost:8080", false},
		{"http://LOCALHOST:8080", "localhost:8080", true},
	}
	for _, tt := range tests {
		if got := Same(tt.origin, tt.host); got != tt.want {
			t.Errorf("Same(%q, %q) = %v, want %v", tt.origin, tt.host, got, tt.want)
		}
	}
}
