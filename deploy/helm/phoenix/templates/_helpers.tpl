{{- define "phoenix.fullname" -}}
{{- printf "%s-phoenix" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "phoenix.labels" -}}
app.kubernetes.io/name: phoenix
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "phoenix.tokenSecret" -}}
{{- default (printf "%s-tokens" (include "phoenix.fullname" .)) .Values.tokens.existingSecret -}}
{{- end -}}

{{- define "phoenix.serverURL" -}}
{{- default (printf "ws://%s-server:%d/v1/opamp" (include "phoenix.fullname" .) (int .Values.server.service.opampPort)) .Values.agent.serverURL -}}
{{- end -}}
