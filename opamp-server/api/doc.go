// Package api holds the wire types of phoenix-server's REST API and event
// stream: the JSON documents the server writes and the CLI (and the console's
// generated TypeScript types) read. It is the one declaration of the
// contract; neither side keeps a copy. It holds data only: the rules live in
// the domain packages (deployment, experiment) and the handlers convert.
package api
