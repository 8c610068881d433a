//! A training run's chart as SVG: the training loss at each step (with its running mean) beside
//! the held-out accuracy and loss before training and after each epoch.

use std::path::Path;

use plotters::prelude::*;

use crate::run::History;
use crate::{TrainError, TrainResult};

/// Steps in the running mean of the loss.
const WINDOW: usize = 20;

fn chart_error(path: &Path, error: impl std::fmt::Display) -> TrainError {
    TrainError::File { path: path.display().to_string(), message: format!("could not draw the chart: {error}") }
}

/// The mean of each step's loss and the `WINDOW - 1` before it.
fn running_mean(losses: &[(usize, f32)]) -> Vec<(usize, f32)> {
    losses
        .iter()
        .enumerate()
        .map(|(index, (step, _))| {
            let window = &losses[index.saturating_sub(WINDOW - 1)..=index];
            (*step, window.iter().map(|(_, loss)| loss).sum::<f32>() / window.len() as f32)
        })
        .collect()
}

/// Draws `history` into an SVG file at `path`.
pub fn draw(history: &History, path: &Path) -> TrainResult<()> {
    let fail = |error: &dyn std::fmt::Display| chart_error(path, error);
    let root = SVGBackend::new(path, (1100, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|error| fail(&error))?;
    let (left, right) = root.split_horizontally(560);

    let losses: Vec<(usize, f32)> = history.steps.iter().map(|step| (step.step, step.loss)).collect();
    let last_step = losses.last().map_or(1, |(step, _)| *step).max(1);
    let top = losses.iter().map(|(_, loss)| *loss).fold(0.8f32, f32::max).min(3.0);
    let mut chart = ChartBuilder::on(&left)
        .caption("training loss per step", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(0..last_step, 0f32..top)
        .map_err(|error| fail(&error))?;
    chart.configure_mesh().x_desc("step").y_desc("loss").draw().map_err(|error| fail(&error))?;
    chart.draw_series(LineSeries::new(losses.iter().copied(), RGBColor(180, 200, 230))).map_err(|error| fail(&error))?;
    chart
        .draw_series(LineSeries::new(running_mean(&losses), BLUE.stroke_width(2)))
        .map_err(|error| fail(&error))?
        .label(format!("mean of {WINDOW} steps"))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], BLUE.stroke_width(2)));
    chart.configure_series_labels().border_style(BLACK).background_style(WHITE).draw().map_err(|error| fail(&error))?;

    let mut points: Vec<(usize, f64, f64)> = history.before.iter().map(|before| (0, before.accuracy, before.loss)).collect();
    points.extend(history.epochs.iter().map(|epoch| (epoch.epoch, epoch.held_out.accuracy, epoch.held_out.loss)));
    let last_epoch = points.last().map_or(1, |(epoch, _, _)| *epoch).max(1);
    let mut chart = ChartBuilder::on(&right)
        .caption("held-out pairs, by epoch", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(0..last_epoch, 0f64..1f64)
        .map_err(|error| fail(&error))?;
    chart.configure_mesh().x_desc("epoch (0: before training)").y_desc("accuracy, loss").x_labels(last_epoch + 1).draw().map_err(|error| fail(&error))?;
    let accuracy: Vec<(usize, f64)> = points.iter().map(|(epoch, accuracy, _)| (*epoch, *accuracy)).collect();
    let loss: Vec<(usize, f64)> = points.iter().map(|(epoch, _, loss)| (*epoch, loss.min(1.0))).collect();
    chart
        .draw_series(LineSeries::new(accuracy.clone(), GREEN.stroke_width(2)).point_size(4))
        .map_err(|error| fail(&error))?
        .label("pairwise accuracy")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], GREEN.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(loss, RED.stroke_width(2)).point_size(4))
        .map_err(|error| fail(&error))?
        .label("loss")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], RED.stroke_width(2)));
    chart.configure_series_labels().border_style(BLACK).background_style(WHITE).draw().map_err(|error| fail(&error))?;
    root.present().map_err(|error| fail(&error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_running_mean_covers_the_steps_so_far() {
        let losses: Vec<(usize, f32)> = (1..=30).map(|step| (step, step as f32)).collect();
        let mean = running_mean(&losses);
        assert_eq!(mean[0], (1, 1.0));
        assert_eq!(mean[1], (2, 1.5));
        assert_eq!(mean[29], (30, (11..=30).sum::<usize>() as f32 / 20.0));
    }
}
