// Package alpacatest is a protocol-faithful fake of the Alpaca APIs for tests:
// one loopback HTTP server (127.0.0.1, random port) that speaks what the real
// github.com/alpacahq/alpaca-trade-api-go/v3 SDK expects, so tests run the
// real SDK and never reach Alpaca.
//
// It serves:
//
//   - REST bars, stocks (GET /v2/stocks/bars) and crypto
//     (GET /v1beta3/crypto/{loc}/bars): the bars it was given, sorted by
//     symbol then time, start and end both inclusive, pages of at most
//     "limit" bars counted across all symbols (default 1000, cap 10000),
//     "next_page_token" null on the last page; a symbol it does not know
//     simply has no bars, as on Alpaca. It does not aggregate: give it bars of
//     the timeframe your code asks for.
//   - the msgpack market-data websocket, stocks (/v2/{feed}) and crypto
//     (/v1beta3/crypto/{loc}): the handshake, subscribe and unsubscribe
//     with the full current lists echoed back, bar frames whose maps start
//     with "T", Alpaca's error codes and messages verbatim (402 auth failed,
//     406 connection limit exceeded, 407 slow client, ...), pings answered.
//     One connection per endpoint and key, as on Alpaca: a second one gets
//     406 until the first closes.
//   - the trading API: account, positions, orders (POST with client_order_id
//     uniqueness, 422 "client_order_id must be unique" like Alpaca), orders
//     by client order id, and the trade-updates server-sent-event stream
//     (GET /v2/events/trades). Market orders fill at once at the last known
//     close of the symbol and move the position.
//
// Faults are injected with [Server.SetFaults]: every Nth REST request fails
// with 429 or 500; a stream connection is cut after N bars, abruptly or in
// the middle of a message, and the next upgrades can be refused with 503;
// order POSTs are placed but answered with an error. [Server.StallStreams]
// makes open stream connections go silent (open, answering pings, sending
// nothing), [Server.CutStreams] breaks them, [Server.DropTradeStreams] ends
// the trade-update streams; Options set a rate limit (429), a symbol limit
// (405) and the free plan's recent-SIP refusal (403). [Server.Stats] counts
// what was served and [Server.Wait] blocks until a condition on those
// counts holds, so tests synchronise on events instead of sleeping.
//
//	srv := alpacatest.NewServer(alpacatest.Options{Bars: bars})
//	defer srv.Close()
//	md := marketdata.NewClient(marketdata.ClientOpts{
//		APIKey: alpacatest.Key, APISecret: alpacatest.Secret, BaseURL: srv.DataURL,
//	})
//
// Set every SDK option explicitly in tests: the SDK's DefaultClient reads the
// APCA_* environment variables at init.
package alpacatest
