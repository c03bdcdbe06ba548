package dev.rerank4j.bench;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The side-by-side results as a PNG, drawn with Java2D (headless): one row of panels per model, one panel per
 * workload, one bar per engine. Bar = median over the timed runs, whisker = min to max, number = the median.
 * Throughput workloads are in pairs/s (higher is better); the latency workload (c) in ms per call (lower is
 * better). Each panel's subtitle gives rerank4j against the faster ORT way (median of the run-by-run ratios).
 */
final class Chart {
    static final Map<String, Color> COLORS = Map.of(
            "rerank4j", new Color(0xD9, 0x5F, 0x02),
            OrtEncoder.Batching.ONE_PADDED_BATCH.id, new Color(0x9E, 0xBC, 0xDA),
            OrtEncoder.Batching.SORTED_BATCHES_32.id, new Color(0x31, 0x68, 0xA8),
            TorchEngine.ID, new Color(0x66, 0xA6, 0x1E));
    private static final int PANEL_W = 330, PANEL_H = 300, LEFT = 20, TOP = 100, GAP = 16, BOTTOM = 64;

    private Chart() {}

    static void write(Path png, List<Results.Cell> cells, String subtitle) throws IOException {
        if (!Boolean.getBoolean("java.awt.headless")) System.setProperty("java.awt.headless", "true");
        List<BenchModel> models = new ArrayList<>();
        List<Workload.Spec> specs = new ArrayList<>();
        for (Results.Cell c : cells) {
            if (!models.contains(c.model())) models.add(c.model());
            if (!specs.contains(c.spec())) specs.add(c.spec());
        }
        specs.sort(null);
        int cols = Math.max(1, specs.size()), rows = Math.max(1, models.size());
        int width = Math.max(LEFT * 2 + cols * (PANEL_W + GAP), 900);
        int height = TOP + rows * (PANEL_H + GAP) + BOTTOM;
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 17));
            g.drawString("rerank4j vs ONNX Runtime Java vs PyTorch, same models, same token ids, same threads", LEFT, 26);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            drawWrapped(g, subtitle, LEFT, 46, width - 2 * LEFT);
            legend(g, LEFT, 84);
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    Results.Cell cell = find(cells, models.get(r), specs.get(c));
                    int x = LEFT + c * (PANEL_W + GAP), y = TOP + r * (PANEL_H + GAP);
                    panel(g, x, y, models.get(r), specs.get(c), cell);
                }
            }
            g.setColor(Color.DARK_GRAY);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            drawWrapped(g, "Bars: median over the timed runs; whiskers: min–max; (a) (b) (d) in pairs/s, higher is better; "
                    + "(c) in ms per call, lower is better. Ratio: rerank4j / the faster ORT way, median (min–max) of the "
                    + "run-by-run ratios; for (c) a latency ratio. Raw runs: the CSV next to this file; see bench/README.md.",
                    LEFT, height - BOTTOM + 22, width - 2 * LEFT);
        } finally {
            g.dispose();
        }
        Path parent = png.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        Path tmp = png.resolveSibling(png.getFileName() + ".tmp");
        if (!ImageIO.write(image, "png", tmp.toFile())) throw new IOException("no PNG writer");
        Files.move(tmp, png, StandardCopyOption.REPLACE_EXISTING);
    }

    private static Results.Cell find(List<Results.Cell> cells, BenchModel m, Workload.Spec s) {
        for (Results.Cell c : cells) if (c.model() == m && c.spec() == s) return c;
        return null;
    }

    private static void legend(Graphics2D g, int x, int y) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        FontMetrics fm = g.getFontMetrics();
        for (String e : Results.ENGINE_ORDER) {
            g.setColor(COLORS.get(e));
            g.fillRect(x, y - 10, 12, 12);
            g.setColor(Color.BLACK);
            String label = Results.LABELS.get(e);
            g.drawString(label, x + 17, y);
            x += 17 + fm.stringWidth(label) + 22;
        }
    }

    private static void panel(Graphics2D g, int x, int y, BenchModel model, Workload.Spec spec, Results.Cell cell) {
        g.setColor(new Color(0xF6, 0xF6, 0xF6));
        g.fillRect(x, y, PANEL_W, PANEL_H);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.drawString(model.id + " (" + spec.id + ") " + spec.description, x + 8, y + 18);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        if (cell == null || cell.skipped() != null) {
            g.setColor(Color.GRAY);
            drawWrapped(g, cell == null ? "not run" : "skipped: " + cell.skipped(), x + 8, y + PANEL_H / 2, PANEL_W - 16);
            return;
        }
        Results.Runs ort = cell.fasterOrt();
        double[] ratios = cell.ratios(ort);
        g.drawString(ratios == null ? "no ORT run" : String.format("rerank4j / ORT: %.2f (%.2f–%.2f)%s", Results.median(ratios),
                Results.min(ratios), Results.max(ratios), spec.latency ? " latency, target ≤ 0.8" : ""), x + 8, y + 34);

        // plot area
        int px = x + 46, py = y + 48, pw = PANEL_W - 56, ph = PANEL_H - 48 - 36;
        double top = 0;
        for (Results.Runs r : cell.runs()) top = Math.max(top, value(cell, r, true));
        double step = niceStep(top / 4);
        double axisMax = Math.max(step, Math.ceil(top * 1.12 / step) * step);
        g.setColor(Color.WHITE);
        g.fillRect(px, py, pw, ph);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
        FontMetrics fm = g.getFontMetrics();
        for (double t = 0; t <= axisMax + 1e-9; t += step) {
            int ty = py + ph - (int) Math.round(t / axisMax * ph);
            g.setColor(new Color(0xDD, 0xDD, 0xDD));
            g.drawLine(px, ty, px + pw, ty);
            g.setColor(Color.DARK_GRAY);
            String s = format(t);
            g.drawString(s, px - 4 - fm.stringWidth(s), ty + 4);
        }
        g.setColor(Color.DARK_GRAY);
        g.rotate(-Math.PI / 2);
        String unit = spec.latency ? "ms per call (lower is better)" : "pairs/s (higher is better)";
        g.drawString(unit, -(py + ph / 2 + fm.stringWidth(unit) / 2), x + 12);
        g.rotate(Math.PI / 2);

        int n = Results.ENGINE_ORDER.size();
        int slot = pw / n, bw = (int) (slot * 0.62);
        for (int i = 0; i < n; i++) {
            String e = Results.ENGINE_ORDER.get(i);
            int bx = px + i * slot + (slot - bw) / 2;
            Results.Runs r = cell.runs(e);
            if (r == null) {
                g.setColor(Color.GRAY);
                String why = cell.absent().getOrDefault(e, "not run").replaceFirst(" \\(.*", "");
                drawWrapped(g, why.length() > 40 ? why.substring(0, 40) + "…" : why, bx - 4, py + ph - 40, slot - 2);
                continue;
            }
            double med = spec.latency ? 1e3 * r.medianSeconds() : cell.pairs() / r.medianSeconds();
            double lo = value(cell, r, false), hi = value(cell, r, true);
            int h = (int) Math.round(med / axisMax * ph);
            g.setColor(COLORS.get(e));
            g.fillRect(bx, py + ph - h, bw, h);
            g.setColor(Color.BLACK);
            g.setStroke(new BasicStroke(1.3f));
            int cx = bx + bw / 2, yLo = py + ph - (int) Math.round(lo / axisMax * ph), yHi = py + ph - (int) Math.round(hi / axisMax * ph);
            g.drawLine(cx, yLo, cx, yHi);
            g.drawLine(cx - 5, yLo, cx + 5, yLo);
            g.drawLine(cx - 5, yHi, cx + 5, yHi);
            g.setStroke(new BasicStroke(1f));
            String label = format(med);
            g.drawString(label, cx - fm.stringWidth(label) / 2, Math.min(yHi, py + ph - h) - 4);
        }
        g.setColor(Color.GRAY);
        g.drawRect(px, py, pw, ph);
        g.setColor(Color.DARK_GRAY);
        g.drawString(String.format("%d timed runs per engine; load %.1f → %.1f", cell.runs().getFirst().seconds().length,
                cell.loadBefore(), cell.loadAfter()), px, py + ph + 16);
    }

    /** The top (hi = true) or bottom of an engine's whisker in the panel's unit. */
    private static double value(Results.Cell cell, Results.Runs r, boolean hi) {
        if (cell.spec().latency) return 1e3 * (hi ? Results.max(r.seconds()) : Results.min(r.seconds()));
        return cell.pairs() / (hi ? Results.min(r.seconds()) : Results.max(r.seconds()));
    }

    static double niceStep(double raw) {
        if (!(raw > 0)) return 1;
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        double f = raw / p;
        return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
    }

    private static String format(double v) {
        if (v >= 100) return String.format("%.0f", v);
        if (v >= 10) return String.format("%.1f", v);
        return String.format("%.2f", v);
    }

    private static void drawWrapped(Graphics2D g, String text, int x, int y, int width) {
        FontMetrics fm = g.getFontMetrics();
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ")) {
            if (!line.isEmpty() && fm.stringWidth(line + " " + word) > width) {
                g.drawString(line.toString(), x, y);
                y += fm.getHeight();
                line.setLength(0);
            }
            if (!line.isEmpty()) line.append(' ');
            line.append(word);
        }
        if (!line.isEmpty()) g.drawString(line.toString(), x, y);
    }
}
