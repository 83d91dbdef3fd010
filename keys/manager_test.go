package keys

import (
	"fmt"
	"slices"
	"testing"
)

func TestNewManagerRefusesUnknownAlgorithm(t *testing.T) {
	for _, algs := range [][]string{{"HS256"}, {RS256, "none"}, {}} {
		t.Run(fmt.Sprint(algs), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			NewManager(nil, nil, WithAlgorithms(algs...))
		})
	}
}

func TestAlgorithms(t *testing.T) {
	m := NewManager(nil, nil, WithAlgorithms(ES256, RS256))
	got := m.Algorithms()
	if !slices.Equal(got, []string{ES256, RS256}) {
		t.Errorf("Algorithms() = %v", got)
	}
	got[0] = "x"
	if m.Algorithms()[0] != ES256 {
		t.Error("Algorithms() shares the Manager's slice")
	}
}
