package api

// Problem is an RFC 9457 problem document (application/problem+json), the
// body of every error answer. Extension members (the conflicting deployment,
// accepted values, validation problems) sit beside these fields.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance,omitempty"`
	// Field names the request field that is wrong, when there is one.
	Field string `json:"field,omitempty"`
}
