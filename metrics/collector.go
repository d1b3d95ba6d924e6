package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickflow/tickflow/pipeline"
)

var (
	activeDesc = prometheus.NewDesc("active_async_tasks",
		"Number of active async tasks: outbound operations in flight.", nil, nil)
	queuedDesc = prometheus.NewDesc("tickflow_stage_queued_items",
		"Items waiting in the edge that feeds a stage (queue depth).", []string{"stage"}, nil)
	workersDesc = prometheus.NewDesc("tickflow_pipeline_workers",
		"Workers running the pipeline's stages.", nil, nil)
	busyDesc = prometheus.NewDesc("tickflow_stage_busy_seconds_total",
		"Time a stage's workers spent processing, summed over workers.", []string{"stage"}, nil)
	failedDesc = prometheus.NewDesc("tickflow_stage_failed_keys_total",
		"Keys (symbols) a stage failed.", []string{"stage"}, nil)
	sinkQueueDesc = prometheus.NewDesc("tickflow_sink_queued_items",
		"Events waiting in a slow sink's asynchronous queue (or being written).", []string{"sink"}, nil)
)

// stageCollector reads the watched pipeline's Stats at scrape time.
type stageCollector struct{ m *Metrics }

func (c stageCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{activeDesc, queuedDesc, workersDesc, busyDesc, failedDesc, sinkQueueDesc} {
		ch <- d
	}
}

func (c stageCollector) Collect(ch chan<- prometheus.Metric) {
	active := c.m.inflight.Load()
	var stats []pipeline.StageStats
	if p := c.m.watched(); p != nil {
		stats = p.Stats()
		ch <- prometheus.MustNewConstMetric(workersDesc, prometheus.GaugeValue, float64(p.Workers()))
	}
	for _, s := range stats {
		ch <- prometheus.MustNewConstMetric(queuedDesc, prometheus.GaugeValue, float64(s.Queued), s.Name)
		ch <- prometheus.MustNewConstMetric(busyDesc, prometheus.CounterValue, s.Busy.Seconds(), s.Name)
		ch <- prometheus.MustNewConstMetric(failedDesc, prometheus.CounterValue, float64(s.Failed), s.Name)
	}
	ch <- prometheus.MustNewConstMetric(activeDesc, prometheus.GaugeValue, float64(active))
	c.m.mu.RLock()
	defer c.m.mu.RUnlock()
	for name, depth := range c.m.queues {
		ch <- prometheus.MustNewConstMetric(sinkQueueDesc, prometheus.GaugeValue, float64(depth()), name)
	}
}
