package e2etest

import (
	"io"
	"net"
	"sync"
)

// Proxy is a loopback TCP proxy to a service (PostgreSQL, Redis) that a
// test can cut and restore, to play an outage of the real service without
// touching the service itself, which other tests share.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  proxyMode
	conns map[net.Conn]struct{} // both ends of forwarded connections
	held  map[net.Conn]struct{} // connections accepted while blackholed
	done  chan struct{}
	wg    sync.WaitGroup
}

type proxyMode int

const (
	forwarding  proxyMode = iota
	refusing              // accept and close at once: "connection reset"
	blackholing           // accept and never answer: a dead host or network
)

// NewProxy listens on 127.0.0.1 (a free port) and forwards every
// connection to target.
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}, held: map[net.Conn]struct{}{}, done: make(chan struct{})}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut closes every connection and closes new ones as soon as they come:
// the service is down (its clients see resets and EOFs at once).
func (p *Proxy) Cut() { p.setMode(refusing) }

// Blackhole closes every connection and accepts new ones without ever
// answering: the service's host is unreachable, and only clients' own
// deadlines end their waits.
func (p *Proxy) Blackhole() { p.setMode(blackholing) }

// Restore forwards new connections again (connections held while
// blackholed are closed: they never reached the service).
func (p *Proxy) Restore() { p.setMode(forwarding) }

func (p *Proxy) setMode(m proxyMode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = m
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
	if m == forwarding {
		for c := range p.held {
			c.Close()
		}
		clear(p.held)
	}
}

// Close stops listening and closes every connection.
func (p *Proxy) Close() error {
	err := p.ln.Close()
	p.mu.Lock()
	close(p.done)
	for c := range p.conns {
		c.Close()
	}
	for c := range p.held {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode := p.mode
		switch mode {
		case refusing:
			c.Close()
		case blackholing:
			p.held[c] = struct{}{}
		}
		p.mu.Unlock()
		if mode == forwarding {
			p.wg.Add(1)
			go p.forward(c)
		}
	}
}

func (p *Proxy) forward(client net.Conn) {
	defer p.wg.Done()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	p.mu.Lock()
	select {
	case <-p.done:
		p.mu.Unlock()
		client.Close()
		server.Close()
		return
	default:
	}
	if p.mode != forwarding {
		// Cut while dialling: this connection belongs to the outage.
		p.mu.Unlock()
		client.Close()
		server.Close()
		return
	}
	p.conns[client], p.conns[server] = struct{}{}, struct{}{}
	p.mu.Unlock()

	var wg sync.WaitGroup
	wg.Add(2)
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		io.Copy(dst, src)
		// One direction ended: end the connection, as a real peer's
		// close would.
		dst.Close()
		src.Close()
	}
	go pipe(server, client)
	go pipe(client, server)
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.mu.Unlock()
}
