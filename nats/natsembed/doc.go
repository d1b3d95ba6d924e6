// Package natsembed runs a NATS server with JetStream inside the process, so
// that tickflow's bus needs nothing installed (--bus embedded): ingest and
// workers on one machine, with JetStream's data in a local folder. It is a
// package of its own so that programs that do not ask for an embedded server
// do not link it.
package natsembed
