//! Time controls: play, pause, speed, and the virtual clock.

use kubesim::SimTime;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

/// The speeds offered, from a quarter of real time to a thousand times it.
pub const SPEEDS: [f64; 10] = [0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 100.0, 300.0, 1000.0];

/// The speeds the box offers: the usual ones, plus the current speed in its
/// place when it is none of them (`?speed=4`, or a host page's
/// `kubesim:speed`), so the box shows the speed the clock really runs at.
pub fn speed_options(current: f64) -> Vec<f64> {
    let mut v = SPEEDS.to_vec();
    if current.is_finite() && current > 0.0 && !v.iter().any(|s| (s - current).abs() < f64::EPSILON)
    {
        v.push(current);
        v.sort_by(f64::total_cmp);
    }
    v
}

#[derive(Properties, PartialEq)]
pub struct ControlsProps {
    pub playing: bool,
    pub speed: f64,
    pub now: SimTime,
    pub seed: u64,
    pub events: u64,
    pub on_play: Callback<()>,
    pub on_pause: Callback<()>,
    pub on_speed: Callback<f64>,
}

/// `0.25×`, `4.5×`, `1000×`: at most two decimals, none when whole (a
/// `?speed=4.5` must not read `4×`).
fn speed_label(s: f64) -> String {
    let text = format!("{s:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}×")
}

#[function_component(Controls)]
pub fn controls(p: &ControlsProps) -> Html {
    let toggle = {
        let (playing, on_play, on_pause) = (p.playing, p.on_play.clone(), p.on_pause.clone());
        Callback::from(move |_: MouseEvent| {
            if playing {
                on_pause.emit(())
            } else {
                on_play.emit(())
            }
        })
    };
    let on_change = {
        let on_speed = p.on_speed.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            if let Ok(v) = select.value().parse::<f64>() {
                on_speed.emit(v);
            }
        })
    };
    let (icon, label) = if p.playing {
        ("❚❚", "Pause")
    } else {
        ("▶", "Play")
    };
    html! {
        <div class="controls" role="group" aria-label="Time controls">
            <button id="play" class={classes!("play", p.playing.then_some("playing"))}
                aria-label={label} aria-pressed={p.playing.to_string()} title={format!("{label} the simulation")}
                onclick={toggle}>
                <span aria-hidden="true" class="icon">{icon}</span>
                <span class="text">{label}</span>
            </button>
            <label class="speed">
                <span>{"Speed"}</span>
                <select id="speed" aria-label="Simulation speed" onchange={on_change}>
                    { for speed_options(p.speed).into_iter().map(|s| html! {
                        <option value={s.to_string()} selected={(s - p.speed).abs() < f64::EPSILON}>
                            {speed_label(s)}
                        </option>
                    }) }
                </select>
            </label>
            <div class="clock-box" title="Virtual time since the cluster started">
                <span class="clock-label">{"virtual time"}</span>
                <output id="clock" data-ms={p.now.as_millis().to_string()} aria-live="off">
                    {p.now.to_string()}
                </output>
            </div>
            <div class="run-facts">
                <span title="Every random choice in the run derives from this seed">{format!("seed {}", p.seed)}</span>
                <span title="Events the simulation has delivered">{format!("{} events", p.events)}</span>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractional_speeds_keep_their_decimals() {
        assert_eq!(speed_label(0.25), "0.25×");
        assert_eq!(speed_label(0.5), "0.5×");
        assert_eq!(speed_label(4.5), "4.5×");
        assert_eq!(speed_label(1.0), "1×");
        assert_eq!(speed_label(1000.0), "1000×");
        assert_eq!(speed_label(1.0 / 3.0), "0.33×");
    }

    #[test]
    fn a_speed_between_the_usual_ones_gets_its_own_option_in_order() {
        assert_eq!(speed_options(100.0), SPEEDS.to_vec());
        let v = speed_options(4.0);
        assert_eq!(v.len(), SPEEDS.len() + 1);
        assert_eq!(v[4], 4.0);
        assert!(v.windows(2).all(|w| w[0] < w[1]));
    }
}
