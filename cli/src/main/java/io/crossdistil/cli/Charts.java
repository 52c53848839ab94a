package io.crossdistil.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** Learning curves as PNG, drawn with XChart. */
final class Charts {
    private Charts() {}

    static void learningCurves(Path file, String title, String yAxis, List<ExperimentRunner.VariantResult> results,
            ToDoubleFunction<ExperimentRunner.CurvePoint> value) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(900).height(560).title(title).xAxisTitle("events").yAxisTitle(yAxis).build();
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideSE);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        for (ExperimentRunner.VariantResult r : results) {
            List<Double> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            for (ExperimentRunner.CurvePoint p : r.curve()) {
                double v = value.applyAsDouble(p);
                if (Double.isFinite(v)) {
                    x.add((double) p.events());
                    y.add(v);
                }
            }
            if (!x.isEmpty()) {
                XYSeries s = chart.addSeries(r.variant(), x, y);
                s.setMarker(SeriesMarkers.NONE);
            }
        }
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    /** Task k's reliability diagram: observed positive rate against mean prediction per bucket, one line per variant. */
    static void reliability(Path file, String title, List<ExperimentRunner.VariantResult> results, int k) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(700).height(640).title(title).xAxisTitle("mean served probability")
                .yAxisTitle("observed positive rate").build();
        chart.getStyler().setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideNW);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setXAxisMin(0.0).setXAxisMax(1.0).setYAxisMin(0.0).setYAxisMax(1.0);
        XYSeries diagonal = chart.addSeries("perfectly calibrated", List.of(0.0, 1.0), List.of(0.0, 1.0));
        diagonal.setMarker(SeriesMarkers.NONE);
        diagonal.setLineColor(java.awt.Color.GRAY);
        for (ExperimentRunner.VariantResult r : results) {
            if (r.reliability() == null) {
                continue;
            }
            List<Double> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            for (var bucket : r.reliability().table(k)) {
                x.add(bucket.meanPredicted());
                y.add(bucket.observedRate());
            }
            if (!x.isEmpty()) {
                chart.addSeries(r.variant(), x, y);
            }
        }
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }
}
