// Package deployment is the deployment domain of phoenix-server: deployments
// with immutable versions and rollback, the assignment of hosts (one
// deployment per host; the oldest wins an overlap), a host's desired state
// (a chain: deployment -> experiment -> load simulation, see Layer) and the
// status of hosts and deployments against it. It returns domainerr errors;
// the REST layer (package server) maps them to HTTP.
package deployment
