package rooms

import (
	"slices"
	"testing"
)

type fakeMember struct {
	sid     string
	revoked []string
}

func (m *fakeMember) SocketID() string       { return m.sid }
func (m *fakeMember) Revoked(orderID string) { m.revoked = append(m.revoked, orderID) }

func TestAccessRevoke(t *testing.T) {
	a := NewAccess()
	v1, v2, other := &fakeMember{sid: "s1"}, &fakeMember{sid: "s2"}, &fakeMember{sid: "s3"}
	steps := []struct {
		name string
		do   func() any
		want any
	}{
		{"admit v1", func() any { return a.Admit("o", v1, 1) }, true},
		{"admit v2", func() any { return a.Admit("o", v2, 2) }, true},
		{"other order", func() any { return a.Admit("p", other, 1) }, true},
		{"revoke below 2 drops v1 only", func() any { return len(a.revoke("o", 2)) }, 1},
		{"a late, older revocation changes nothing", func() any { return len(a.revoke("o", 2)) }, 0},
		{"a subscribe with v1 after the revocation is refused", func() any { return a.Admit("o", v1, 1) }, false},
		{"v2 and the other order remain", func() any { return a.Len() }, 2},
		{"revoke 4 before 3 arrives", func() any { return len(a.revoke("o", 4)) }, 1},
		{"then 3 changes nothing", func() any { return len(a.revoke("o", 3)) }, 0},
		{"forget", func() any { a.Forget("p", other); return a.Len() }, 0},
	}
	for _, st := range steps {
		if got := st.do(); got != st.want {
			t.Fatalf("%s: %v, want %v", st.name, got, st.want)
		}
	}
	if got := a.revoke("p", 9); !slices.Equal(got, nil) {
		t.Fatalf("forgotten member revoked: %v", got)
	}
}
