package main

import "time"

// Settings of one pause: at least Min, at most Max, over once no client traffic has reached the
// Pod for Quiet. ProbePeriods are the periods of the Pod's probes that may open a connection: the
// kubelet's own, which must not keep the Pod waiting.
type Settings struct {
	Min, Max, Quiet time.Duration
	ProbePeriods    []time.Duration
}

// Socket is one connection to a port the Pod serves, as the kernel describes it.
type Socket struct {
	// Cookie identifies the socket for as long as it lives.
	Cookie uint64
	// LastRecv is how long ago data last arrived on it (tcp_info's tcpi_last_data_recv).
	LastRecv time.Duration
}

// Sample is what one look at the Pod's network namespace found.
type Sample struct {
	At      time.Time
	Sockets []Socket
	// PassiveOpens counts every connection the namespace ever accepted (/proc/net/snmp).
	PassiveOpens uint64
}

// Hold is how long a connection must live before its traffic counts: a probe's connection is
// closed within its timeout (1 s by default), a client's kept-alive connection lives on. Shorter
// connections are counted by their opening instead (PassiveOpens), against the probes' budget.
const Hold = time.Second

// Watch decides, sample by sample, when the pause is over. It is pure: times come from samples.
type Watch struct {
	settings  Settings
	start     time.Time
	firstSeen map[uint64]time.Time
	// lastTraffic is when client traffic last reached the Pod; zero while none has been seen.
	lastTraffic time.Time
	// pending is true while a connection younger than Hold had data within the quiet period.
	pending bool
	// probeTokens: connections the probes may still have opened (a token bucket, refilled at their rate).
	probeTokens float64
	lastOpens   uint64
	lastAt      time.Time
	sampled     bool
}

// NewWatch starts a pause at start.
func NewWatch(settings Settings, start time.Time) *Watch {
	return &Watch{
		settings:    settings,
		start:       start,
		firstSeen:   map[uint64]time.Time{},
		probeTokens: probeCapacity(settings),
	}
}

// A probe's connections may come two in one period (a late run, then one on time).
func probeCapacity(s Settings) float64 { return 2 * float64(len(s.ProbePeriods)) }

func probeRate(s Settings) float64 {
	rate := 0.0
	for _, period := range s.ProbePeriods {
		if period > 0 {
			rate += 1 / period.Seconds()
		}
	}
	return rate
}

func (w *Watch) seeTraffic(at time.Time) {
	if at.After(w.lastTraffic) {
		w.lastTraffic = at
	}
}

// Observe takes in one sample.
func (w *Watch) Observe(s Sample) {
	w.pending = false
	alive := make(map[uint64]bool, len(s.Sockets))
	for _, socket := range s.Sockets {
		alive[socket.Cookie] = true
		first, known := w.firstSeen[socket.Cookie]
		if !known {
			first = s.At
			w.firstSeen[socket.Cookie] = first
		}
		received := s.At.Add(-socket.LastRecv)
		if s.At.Sub(first) >= Hold {
			w.seeTraffic(received)
		} else if s.At.Sub(received) < w.settings.Quiet {
			w.pending = true
		}
	}
	for cookie := range w.firstSeen {
		if !alive[cookie] {
			delete(w.firstSeen, cookie)
		}
	}
	w.countOpens(s)
}

// countOpens: connections accepted since the last sample that the probes cannot account for are
// client traffic, at this sample's time.
func (w *Watch) countOpens(s Sample) {
	if !w.sampled {
		w.sampled, w.lastOpens, w.lastAt = true, s.PassiveOpens, s.At
		return
	}
	opened := float64(s.PassiveOpens - w.lastOpens)
	w.probeTokens += probeRate(w.settings) * s.At.Sub(w.lastAt).Seconds()
	if capacity := probeCapacity(w.settings); w.probeTokens > capacity {
		w.probeTokens = capacity
	}
	// The probes' budget is theirs alone: openings beyond it are all clients', and leave it as it is.
	if opened <= w.probeTokens+1e-9 {
		w.probeTokens = max(0, w.probeTokens-opened)
	} else {
		w.seeTraffic(s.At)
	}
	w.lastOpens, w.lastAt = s.PassiveOpens, s.At
}

// Ending says whether the pause is over at now, and why: "maximum" or "quiet".
func (w *Watch) Ending(now time.Time) (bool, string) {
	elapsed := now.Sub(w.start)
	if elapsed >= w.settings.Max {
		return true, "maximum"
	}
	// A whole quiet period must have been watched: openings before the start cannot be seen.
	if elapsed < w.settings.Min || elapsed < w.settings.Quiet || w.pending {
		return false, ""
	}
	if !w.lastTraffic.IsZero() && now.Sub(w.lastTraffic) < w.settings.Quiet {
		return false, ""
	}
	return true, "quiet"
}

// LastTraffic is when client traffic last reached the Pod, if it was seen at all.
func (w *Watch) LastTraffic() (time.Time, bool) { return w.lastTraffic, !w.lastTraffic.IsZero() }
