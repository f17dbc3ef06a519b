package main

import "testing"

func TestPlanGC(t *testing.T) {
	env := func(vars ...string) func(string) (string, bool) {
		return func(name string) (string, bool) {
			for _, v := range vars {
				if v == name {
					return "set", true
				}
			}
			return "", false
		}
	}
	for _, tt := range []struct {
		name  string
		limit int64
		env   []string
		want  gcPlan
	}{
		{"defaults", 0, nil, gcPlan{percent: defaultGCPercent}},
		{"memory limit", 1 << 30, nil, gcPlan{percent: defaultGCPercent, limit: 1 << 30}},
		{"GOGC wins", 1 << 30, []string{"GOGC"}, gcPlan{limit: 1 << 30}},
		{"GOMEMLIMIT wins", 1 << 30, []string{"GOMEMLIMIT"}, gcPlan{percent: defaultGCPercent}},
		{"both set", 1 << 30, []string{"GOGC", "GOMEMLIMIT"}, gcPlan{}},
	} {
		if got := planGC(tt.limit, env(tt.env...)); got != tt.want {
			t.Errorf("%s: planGC = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1000": 1000, "512MiB": 512 << 20, "2GiB": 2 << 30, "3KiB": 3 << 10, "1TiB": 1 << 40, "10B": 10} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1GB", "x", "9999999TiB"} {
		if _, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q): no error", in)
		}
	}
}
