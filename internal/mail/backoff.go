package mail

import (
	"math/rand/v2"
	"time"
)

// backoff is the wait after a message's failed attempt when failed
// attempts had already failed before it: MinBackoff·2^failed, capped at
// MaxBackoff, plus up to 10% jitter so that messages which failed
// together (an SMTP outage) do not all come back in the same instant.
func (s *Sender) backoff(failed int) time.Duration {
	d := s.minBackoff
	for i := 0; i < failed && d < s.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.maxBackoff)
	return d + rand.N(d/10+1)
}
