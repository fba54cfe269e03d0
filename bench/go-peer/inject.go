package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

const (
	prefix        = "lameduck.dev/"
	defaultSleep  = 15
	defaultBudget = 15
	maxSleep      = 300
	maxGrace      = 600
)

// injector is lameduck's policy for the common case (native sleep handler, every regular container):
// the same preStop, grace period, marker and grace warning for the benchmark's Pod.
type injector struct {
	namespaces map[string]*corev1.Namespace
	log        logr.Logger
	decoder    admission.Decoder
}

var duration = regexp.MustCompile(`^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$`)

// seconds reads a duration annotation (`15`, `15s`, `1m30s`), or returns the fallback.
func seconds(text string, fallback int64) int64 {
	if n, err := strconv.ParseInt(text, 10, 32); err == nil && n >= 0 {
		return n
	}
	if m := duration.FindStringSubmatch(text); m != nil && text != "" {
		var total int64
		for i, unit := range []int64{3600, 60, 1} {
			if m[i+1] != "" {
				n, _ := strconv.ParseInt(m[i+1], 10, 32)
				total += n * unit
			}
		}
		return total
	}
	return fallback
}

// setting is the Pod's annotation, else the namespace's, else the default.
func setting(pod *corev1.Pod, ns *corev1.Namespace, key string, fallback int64) int64 {
	if v, ok := pod.Annotations[prefix+key]; ok {
		return seconds(v, fallback)
	}
	if v, ok := ns.Annotations[prefix+key]; ok {
		return seconds(v, fallback)
	}
	return fallback
}

// format writes seconds as lameduck's marker does: 45s, 1m30s, 5m.
func format(s int64) string {
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s%60 == 0:
		return fmt.Sprintf("%dm", s/60)
	default:
		return fmt.Sprintf("%dm%ds", s/60, s%60)
	}
}

// Handle decides one review; controller-runtime completes the response (uid, patchType).
func (h *injector) Handle(_ context.Context, req admission.Request) admission.Response {
	started := time.Now()
	response, decision := h.decide(req)
	h.log.Info("admission", "uid", req.UID, "namespace", req.Namespace, "name", req.Name, "decision", decision,
		"patches", len(response.Patches), "warnings", response.Warnings, "dryRun", req.DryRun != nil && *req.DryRun,
		"ms", float64(time.Since(started).Microseconds())/1000)
	return response
}

func (h *injector) decide(req admission.Request) (admission.Response, string) {
	if req.Operation != admissionv1.Create || req.Resource.Resource != "pods" || req.SubResource != "" {
		return admission.Allowed(""), "skipped"
	}
	ns, ok := h.namespaces[req.Namespace]
	if !ok || ns.Labels[prefix+"inject"] != "enabled" || req.Namespace == "kube-system" {
		return admission.Allowed(""), "skipped"
	}
	pod := &corev1.Pod{}
	if err := h.decoder.Decode(req, pod); err != nil {
		return admission.Errored(http.StatusBadRequest, err), "rejected"
	}
	if pod.Labels[prefix+"inject"] == "disabled" || pod.Spec.RestartPolicy == corev1.RestartPolicyNever || pod.Spec.RestartPolicy == corev1.RestartPolicyOnFailure {
		return admission.Allowed(""), "skipped"
	}
	sleep := min(setting(pod, ns, "prestop-sleep", defaultSleep), maxSleep)
	budget := setting(pod, ns, "shutdown-budget", defaultBudget)
	var hooked []string
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		if c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
			continue
		}
		if c.Lifecycle == nil {
			c.Lifecycle = &corev1.Lifecycle{}
		}
		c.Lifecycle.PreStop = &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: sleep}}
		hooked = append(hooked, c.Name)
	}
	if len(hooked) == 0 {
		return admission.Allowed(""), "skipped"
	}
	var current int64 = 30
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		current = *pod.Spec.TerminationGracePeriodSeconds
	}
	grace := max(current, min(maxGrace, sleep+budget), sleep+1)
	pod.Spec.TerminationGracePeriodSeconds = &grace
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[prefix+"injected"] = fmt.Sprintf("sleep=%s grace=%s handler=sleep containers=%s", format(sleep), format(grace), strings.Join(hooked, ","))
	mutated, err := json.Marshal(pod)
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err), "failed"
	}
	response := admission.PatchResponseFromRaw(req.Object.Raw, mutated)
	if grace > current {
		response.Warnings = append(response.Warnings, fmt.Sprintf("terminationGracePeriodSeconds raised from %d to %d (preStop sleep %s + shutdown budget %s)", current, grace, format(sleep), format(budget)))
	}
	return response, "mutated"
}
