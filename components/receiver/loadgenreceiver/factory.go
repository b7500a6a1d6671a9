// Package loadgenreceiver emits synthetic process metrics, shaped exactly like
// the hostmetrics process scraper's, from a loadgen profile.
package loadgenreceiver

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/scraper"
	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/phoenix-otel/phoenix/loadgen"
)

// TypeStr is the component type in collector configs.
const TypeStr = "loadgen"

var componentType = component.MustNewType(TypeStr)

// NewFactory returns the loadgen receiver factory.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(componentType, createDefaultConfig,
		receiver.WithMetrics(createMetrics, component.StabilityLevelAlpha))
}

func createDefaultConfig() component.Config {
	cc := scraperhelper.NewDefaultControllerConfig()
	cc.CollectionInterval = 10 * time.Second
	return &Config{ControllerConfig: cc, Profile: loadgen.ProfileRealistic, Seed: 1}
}

func createMetrics(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	c := cfg.(*Config)
	g, err := newGenerator(c, set)
	if err != nil {
		return nil, err
	}
	s, err := scraper.NewMetrics(g.scrape, scraper.WithStart(g.start))
	if err != nil {
		return nil, err
	}
	return scraperhelper.NewMetricsController(&c.ControllerConfig, set, next,
		scraperhelper.AddMetricsScraper(componentType, s))
}
