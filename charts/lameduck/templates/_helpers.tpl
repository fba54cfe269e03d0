{{/*
Every object is named lameduck (its Secrets lameduck-tls and lameduck-ca, its Lease
lameduck-renew), whatever the release's name: the webhook configuration is cluster-wide, so there
is one lameduck per cluster, and the code names the same objects.
*/}}

{{/* What the Deployment, Service, PDB and affinity select on. */}}
{{- define "lameduck.selectorLabels" -}}
app.kubernetes.io/name: lameduck
{{- end }}

{{/* Every object's labels: the selector's, then Helm's own four (manifests/, rendered from the chart, leaves them out). */}}
{{- define "lameduck.labels" -}}
{{ include "lameduck.selectorLabels" . }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* repository:tag, or repository@digest when a digest is given. */}}
{{- define "lameduck.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end }}

{{/* Never mutated: the release's namespace (a webhook needed to start itself never starts), then the values'. */}}
{{- define "lameduck.excludedNamespaces" -}}
{{- prepend .Values.excludedNamespaces .Release.Namespace | uniq | toJson -}}
{{- end }}

{{/* The key pair from files (a Secret volume): with cert-manager, or a Secret of the user's. */}}
{{- define "lameduck.tlsVolume" -}}
{{- if eq .Values.certificates.source "secret" -}}
{{ .Values.certificates.secretName }}
{{- else -}}
lameduck-tls
{{- end -}}
{{- end }}
