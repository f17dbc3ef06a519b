package limits

import "testing"

func TestConns(t *testing.T) {
	c := NewConns(2)
	// Each step acquires (want: admitted?) or releases key.
	steps := []struct {
		name    string
		release bool
		key     string
		want    bool
	}{
		{name: "first", key: "a", want: true},
		{name: "second", key: "a", want: true},
		{name: "third, over the cap of 2", key: "a", want: false},
		{name: "another address", key: "b", want: true},
		{name: "release one", release: true, key: "a"},
		{name: "after a release", key: "a", want: true},
		{release: true, key: "a"},
		{release: true, key: "a"},
		{release: true, key: "b"},
	}
	for i, s := range steps {
		if s.release {
			c.Release(s.key)
			continue
		}
		if got := c.Acquire(s.key); got != s.want {
			t.Fatalf("step %d (%s): Acquire(%q) = %v, want %v", i, s.name, s.key, got, s.want)
		}
	}
	if c.Count("a") != 0 || c.Count("b") != 0 || len(c.n) != 0 {
		t.Fatalf("counts left after every release: %v", c.n)
	}
}

// A forced slot counts over the cap, and its release balances.
func TestConnsForce(t *testing.T) {
	c := NewConns(1)
	if !c.Acquire("a") {
		t.Fatal("first refused")
	}
	c.Force("a")
	if n := c.Count("a"); n != 2 {
		t.Fatalf("count after a forced slot over the cap: %d, want 2", n)
	}
	c.Release("a")
	if c.Acquire("a") {
		t.Fatal("admitted while the forced slot is held")
	}
	c.Release("a")
	if c.Count("a") != 0 || len(c.n) != 0 {
		t.Fatalf("counts left after every release: %v", c.n)
	}
}
