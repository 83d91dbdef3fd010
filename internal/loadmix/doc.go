// Package loadmix drives a steady mixed load over HTTP against one or more
// orgid replicas (round robin, as behind a load balancer): client
// credentials organization tokens, refresh → organization token chains and
// management API writes. It records what every request got, so that a
// fault test can check that an outage produced only 503s, that every
// acknowledged write is in the database and that every refresh token it
// was answered with still works; the soak command reads its per-interval
// figures.
package loadmix
