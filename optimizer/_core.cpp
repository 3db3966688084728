// Onsite's compiled search core: ruin-and-recreate over engineer-days, with a local search
// (relocate, swap, 2-opt*, 2-opt) that polishes some of its iterations, in C++.
//
// The ruin-and-recreate is the search of optimizer/search.py (the reference implementation,
// which the tests use to cross-check this one); the local search exists only here, and the
// tests check its plans against the Python objective and the hard constraints. A route is kept as parallel arrays of stops (the break is a stop at
// the previous location) with the earliest start of each stop computed forward and the latest
// start that keeps every later stop feasible computed backward, so that inserting a visit
// between two stops is accepted or rejected in constant time; lateness against promises is
// pushed forward only as far as waiting does not absorb it. Every field constraint the Python
// search honours is honoured here: several hard windows per job, lateness caps, soft promise
// deadlines weighted by priority, breaks, shift ends and maximum working time, maximum visits,
// capacity, visits under way (fixed at the head of their route), time locks (as start bounds),
// engineer locks and skills (as candidate engineer-days), over-qualification and stability
// (as a fixed cost per job and engineer-day) and drop penalties.
//
// Python packs the problem once (optimizer/compiled.py); the search runs without the GIL.

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace py = pybind11;
using i64 = std::int64_t;

namespace {

constexpr i64 NONE = std::numeric_limits<i64>::min();  // "no value" (Python's None)
constexpr i64 NEG = -(i64(1) << 62);                    // an infeasible latest start
constexpr i64 FAR = i64(1) << 62;

constexpr int MAX_STRING = 10;
constexpr double AVG_REMOVED = 10.0;
constexpr double BLINK = 0.01;
constexpr int NEIGHBOURS = 40;
constexpr int GRANULAR = 20;
constexpr double ELIMINATE = 0.1;
// Local search polishes the routes a ruin-and-recreate iteration changed in this share of the
// iterations (and every new best plan). On four Gehring & Homberger 400 instances outside the
// benchmark's sample (r1, r2, rc1, rc2 *_4_5) at 60 s, the mean gap was 1.89 % with local
// search on new best plans only, 0.82 % at 0.03, 0.70 % at 0.1, 1.18 % at 0.3, 1.23 % at 1.
constexpr double LS_SHARE = 0.1;
constexpr int LS_NEIGHBOURS = 20;
constexpr int MAX_LS_PASSES = 50;

enum Progress : int { IDLE = 0, EN_ROUTE = 1, ON_SITE = 2 };

struct JobD {
    int loc = 0;
    i64 service = 0, demand = 0;
    int w_begin = 0, w_end = 0;  // its windows in Data::win_start / win_end
    i64 due = NONE, late_w = 0;
    i64 lo = NONE, hi = NONE, hi_uncapped = NONE;  // start bounds, with and without the cap
    int progress = IDLE;
    i64 started = NONE;
    i64 penalty = 0;
    bool skills = false;
    i64 latest_key = FAR;  // last window end, for the recreate order
};

struct SlotD {
    int start_loc = 0, end_loc = 0;
    i64 start_time = 0, end_time = 0;
    i64 max_work = NONE, max_visits = NONE, capacity = NONE;
    bool has_break = false;
    i64 b_earliest = 0, b_latest = 0, b_dur = 0;
    int engineer = 0, empty_class = 0;
    int own_class = 0;  // dense id of (empty_class, engineer)
};

struct Data {
    int n_loc = 0;
    std::vector<i64> dur, dist;
    std::vector<JobD> jobs;
    std::vector<i64> win_start, win_end;
    std::vector<SlotD> slots;
    std::vector<std::vector<int>> cand;  // eligible engineer-days of each job, in order
    std::vector<i64> fixed;              // slots x jobs: assignment cost, NONE if not eligible
    i64 w_t = 1, w_d = 0;
    // Annealing temperatures at the start and the end, in average arcs of the first plan
    // (optimizer/search.py: ANNEAL_START, ANNEAL_END; required in the data).
    double t_start = 0.0, t_end = 0.0;

    i64 D(int a, int b) const { return dur[std::size_t(a) * n_loc + b]; }
    i64 X(int a, int b) const { return dist[std::size_t(a) * n_loc + b]; }
    i64 fixed_cost(int v, int j) const { return fixed[std::size_t(v) * jobs.size() + j]; }

    // The earliest time >= t inside one of the job's windows (t without windows), or NONE.
    i64 efs(const JobD& job, i64 t) const {
        if (job.w_begin == job.w_end) return t;
        for (int k = job.w_begin; k < job.w_end; ++k)
            if (t <= win_end[k]) return std::max(t, win_start[k]);
        return NONE;
    }

    i64 latest_start(const JobD& job, i64 limit) const {
        if (job.progress == ON_SITE) return job.started <= limit ? job.started : NEG;
        if (job.hi != NONE && job.hi < limit) limit = job.hi;
        if (job.progress != IDLE || job.w_begin == job.w_end) return limit;
        for (int k = job.w_end - 1; k >= job.w_begin; --k)
            if (win_start[k] <= limit) return std::min(limit, win_end[k]);
        return NEG;
    }

    // Start of a stop reached at `arrival`, as the route's timing would give it.
    i64 start_at(const JobD& job, i64 arrival) const {
        if (job.progress == ON_SITE) return job.started;
        if (job.progress != IDLE) return arrival;
        return efs(job, arrival);
    }
};

// One engineer-day as stops (job index, or -1 for the break), timed and costed.
struct Route {
    std::vector<int> seq;
    std::vector<int> locs;
    std::vector<i64> service, earliest, latest;
    i64 departure = 0, end_limit = 0, load = 0, cost = 0;
    int n_visits = 0, fixed_prefix = 0;
    bool has_promises = false;
    std::vector<int> late;
};

void time_route(const Data& d, int v, Route& r) {
    const SlotD& slot = d.slots[v];
    const std::size_t n = r.seq.size();
    r.locs.assign(n, 0);
    r.service.assign(n, 0);
    r.earliest.assign(n, 0);
    r.latest.assign(n, 0);
    r.has_promises = false;
    r.fixed_prefix = 0;
    r.n_visits = 0;
    r.load = 0;
    r.departure = slot.start_time;
    int loc = slot.start_loc;
    i64 t = slot.start_time;
    for (std::size_t i = 0; i < n; ++i) {
        const int j = r.seq[i];
        i64 s;
        if (j < 0) {
            r.locs[i] = loc;
            r.service[i] = slot.b_dur;
            s = std::max(t, slot.b_earliest);
        } else {
            const JobD& job = d.jobs[j];
            r.has_promises = r.has_promises || job.due != NONE;
            if (job.progress != IDLE) r.fixed_prefix = int(i) + 1;
            r.n_visits += 1;
            r.load += job.demand;
            r.locs[i] = job.loc;
            r.service[i] = job.service;
            if (job.progress == ON_SITE) {
                s = job.started;
            } else {
                i64 arrival = t + d.D(loc, job.loc);
                if (job.lo != NONE && job.lo > arrival) arrival = job.lo;
                const i64 first = job.progress == IDLE ? d.efs(job, arrival) : arrival;
                s = first == NONE ? arrival : first;
            }
            loc = job.loc;
        }
        r.earliest[i] = s;
        t = s + r.service[i];
    }
    i64 end_limit = slot.end_time;
    if (slot.max_work != NONE) end_limit = std::min(end_limit, slot.start_time + slot.max_work);
    r.end_limit = end_limit;
    i64 bound = end_limit;
    int next_loc = slot.end_loc;
    for (std::size_t k = n; k-- > 0;) {
        const int j = r.seq[k];
        if (j < 0) {
            const int here = r.locs[k];
            const i64 latest = std::min(bound - d.D(here, next_loc) - slot.b_dur, slot.b_latest);
            r.latest[k] = latest;
            bound = latest;
            next_loc = here;
            continue;
        }
        const JobD& job = d.jobs[j];
        const i64 limit = bound - d.D(job.loc, next_loc) - job.service;
        r.latest[k] = d.latest_start(job, limit);
        bound = r.latest[k];
        next_loc = job.loc;
    }
    // The objective (optimizer/costs.py: route_cost) at earliest times.
    r.late.clear();
    r.cost = 0;
    if (r.n_visits == 0) return;
    loc = slot.start_loc;
    for (std::size_t i = 0; i < n; ++i) {
        const int j = r.seq[i];
        if (j < 0) continue;
        const JobD& job = d.jobs[j];
        r.cost += d.w_t * d.D(loc, job.loc) + d.w_d * d.X(loc, job.loc);
        if (job.due != NONE && r.earliest[i] > job.due) {
            r.cost += job.late_w * (r.earliest[i] - job.due);
            r.late.push_back(j);
        }
        r.cost += d.fixed_cost(v, j);
        loc = job.loc;
    }
    r.cost += d.w_t * d.D(loc, slot.end_loc) + d.w_d * d.X(loc, slot.end_loc);
}

bool feasible(const Data& d, int v, const Route& r) {
    const SlotD& slot = d.slots[v];
    if (slot.capacity != NONE && r.load > slot.capacity) return false;
    if (slot.max_visits != NONE && r.n_visits > slot.max_visits) return false;
    for (std::size_t i = 0; i < r.seq.size(); ++i)
        if (r.earliest[i] > r.latest[i]) return false;
    return true;
}

// Extra lateness cost of the stops after a new visit that leaves stop p - 1 at `t` from `loc`.
i64 propagate(const Data& d, const Route& r, std::size_t p, i64 t, int loc) {
    i64 cost = 0;
    for (std::size_t i = p; i < r.seq.size(); ++i) {
        const int j = r.seq[i];
        if (j < 0) {
            t = std::max(t, r.earliest[i]) + r.service[i];
            continue;
        }
        const JobD& other = d.jobs[j];
        const i64 arrival = t + d.D(loc, other.loc);
        i64 s_new = d.start_at(other, arrival);
        if (s_new == NONE) s_new = arrival;
        const i64 old = r.earliest[i];
        if (s_new <= old) break;
        if (other.due != NONE) {
            const i64 extra = std::max<i64>(0, s_new - other.due) - std::max<i64>(0, old - other.due);
            if (extra > 0) cost += other.late_w * extra;
        }
        t = s_new + other.service;
        loc = other.loc;
    }
    return cost;
}

struct Insertion {
    i64 cost;
    int p;  // stop index
};

// The cheapest feasible insertion of job j into route v (optimizer/insertion.py:
// _best_in_route); p = -1 if there is none.
Insertion best_in_route(const Data& d, int v, const Route& r, int j,
                        std::vector<std::pair<i64, int>>& detours) {
    const SlotD& slot = d.slots[v];
    const JobD& job = d.jobs[j];
    Insertion none{0, -1};
    if (slot.capacity != NONE && r.load + job.demand > slot.capacity) return none;
    if (slot.max_visits != NONE && r.n_visits + 1 > slot.max_visits) return none;
    const int jl = job.loc;
    const int n = int(r.seq.size());
    const i64 fixed = d.fixed_cost(v, j);
    int start_p = r.fixed_prefix;
    if (job.lo != NONE) {
        // bisect_left over the latest starts, as the Python search does.
        const i64 x = job.lo + job.service;
        int lo = 0, hi = n;
        while (lo < hi) {
            const int mid = (lo + hi) / 2;
            if (r.latest[mid] < x)
                lo = mid + 1;
            else
                hi = mid;
        }
        start_p = std::max(r.fixed_prefix, lo);
        if (start_p > r.fixed_prefix && r.seq[start_p - 1] < 0) start_p -= 1;
    }
    // Where and when the engineer leaves the stop before position p.
    auto before = [&](int p) -> std::pair<int, i64> {
        if (p == 0) return {slot.start_loc, r.departure};
        return {r.locs[p - 1], r.earliest[p - 1] + r.service[p - 1]};
    };
    auto detour_at = [&](int p, int prev_loc) -> i64 {
        int next_loc, old_from;
        if (p < n && r.seq[p] < 0) {
            next_loc = p + 1 < n ? r.locs[p + 1] : slot.end_loc;
            old_from = r.locs[p];
        } else {
            next_loc = p < n ? r.locs[p] : slot.end_loc;
            old_from = prev_loc;
        }
        const i64 added_travel = d.D(prev_loc, jl) + d.D(jl, next_loc) - d.D(old_from, next_loc);
        const i64 added_dist = d.X(prev_loc, jl) + d.X(jl, next_loc) - d.X(old_from, next_loc);
        return d.w_t * added_travel + d.w_d * added_dist + fixed;
    };
    // The visit's start at position p if the route stays feasible there, else NONE.
    auto start_if_fits = [&](int p) -> i64 {
        const auto [prev_loc, prev_dep] = before(p);
        const i64 arrival = prev_dep + d.D(prev_loc, jl);
        const i64 s = d.efs(job, job.lo == NONE || arrival >= job.lo ? arrival : job.lo);
        if (s == NONE) return NONE;
        if (job.hi != NONE && s > job.hi) return NONE;
        const i64 t = s + job.service;
        if (p < n) {
            const int nxt = r.seq[p];
            if (nxt < 0) {
                // The break now stands at the new job's site, which changes the travel after it.
                const i64 s_break = t > r.earliest[p] ? t : r.earliest[p];
                if (s_break > slot.b_latest) return NONE;
                const i64 t_after = s_break + slot.b_dur;
                if (p + 1 < n) {
                    const JobD& after = d.jobs[r.seq[p + 1]];
                    const i64 s_after = d.start_at(after, t_after + d.D(jl, after.loc));
                    if (s_after == NONE || s_after > r.latest[p + 1]) return NONE;
                } else if (t_after + d.D(jl, slot.end_loc) > r.end_limit) {
                    return NONE;
                }
            } else {
                const JobD& next_job = d.jobs[nxt];
                const i64 s_next = d.start_at(next_job, t + d.D(jl, next_job.loc));
                if (s_next == NONE || s_next > r.latest[p]) return NONE;
            }
        } else if (t + d.D(jl, slot.end_loc) > r.end_limit) {
            return NONE;
        }
        return s;
    };
    bool found = false;
    Insertion best{0, -1};
    if (!r.has_promises && job.due == NONE) {
        // Without promises an insertion costs its detour: one pass, no ordering needed; the
        // first of equally cheap positions wins, as in the ordered pass below.
        for (int p = start_p; p <= n; ++p) {
            const auto [prev_loc, prev_dep] = before(p);
            if (job.hi_uncapped != NONE && prev_dep > job.hi_uncapped) break;
            const i64 cost = detour_at(p, prev_loc);
            if (found && cost >= best.cost) continue;
            if (start_if_fits(p) == NONE) continue;
            best = {cost, p};
            found = true;
        }
        return found ? best : none;
    }
    detours.clear();
    for (int p = start_p; p <= n; ++p) {
        const auto [prev_loc, prev_dep] = before(p);
        if (job.hi_uncapped != NONE && prev_dep > job.hi_uncapped) break;
        detours.emplace_back(detour_at(p, prev_loc), p);
    }
    std::sort(detours.begin(), detours.end());
    for (const auto& [detour, p] : detours) {
        i64 cost = detour;
        if (found && cost > best.cost) break;
        const i64 s = start_if_fits(p);
        if (s == NONE) continue;
        if (job.due != NONE && s > job.due) {
            cost += job.late_w * (s - job.due);
            if (found && cost > best.cost) continue;
        }
        if (r.has_promises) cost += propagate(d, r, std::size_t(p), s + job.service, jl);
        if (!found || cost < best.cost || (cost == best.cost && p < best.p)) {
            best = {cost, p};
            found = true;
        }
    }
    return found ? best : none;
}

// Python's random.Random is not reproduced: the compiled search has its own seeded stream.
struct Rng {
    std::mt19937_64 gen;
    explicit Rng(std::uint64_t seed) : gen(seed) {}
    double random() { return double(gen() >> 11) * (1.0 / 9007199254740992.0); }
    double uniform(double a, double b) { return a + (b - a) * random(); }
    int randrange(int n) { return n <= 1 ? 0 : int(gen() % std::uint64_t(n)); }
    template <class T>
    void shuffle(std::vector<T>& xs) {
        for (std::size_t i = xs.size(); i > 1; --i) std::swap(xs[i - 1], xs[randrange(int(i))]);
    }
};

using Touched = std::vector<std::pair<int, std::vector<int>>>;

class State {
  public:
    const Data& d;
    std::vector<Route> routes;
    std::vector<int> route_of;     // route of each job, -1 when not served
    std::vector<char> unserved;    // flag per job (only candidates can be unserved)
    std::vector<int> candidates;   // jobs with at least one eligible engineer-day
    std::vector<int> touch_mark;   // iteration stamp per route
    int stamp = 0;

    State(const Data& data, const std::vector<std::vector<int>>& seqs)
        : d(data), routes(data.slots.size()), route_of(data.jobs.size(), -1),
          unserved(data.jobs.size(), 0), touch_mark(data.slots.size(), -1) {
        if (seqs.size() != d.slots.size())
            throw std::invalid_argument("search: one sequence per engineer-day expected");
        for (std::size_t v = 0; v < seqs.size(); ++v) {
            for (int j : seqs[v])
                if (j >= int(d.jobs.size()) || j < -1)
                    throw std::invalid_argument("search: job index out of range");
            routes[v].seq = seqs[v];
            time_route(d, int(v), routes[v]);
            if (!feasible(d, int(v), routes[v])) {
                // A warm start may no longer fit (times moved): start that route afresh.
                routes[v].seq = empty_seq(int(v));
                time_route(d, int(v), routes[v]);
            }
            for (int j : routes[v].seq)
                if (j >= 0) route_of[j] = int(v);
        }
        for (std::size_t j = 0; j < d.jobs.size(); ++j) {
            if (d.cand[j].empty()) continue;
            candidates.push_back(int(j));
            if (route_of[j] < 0) unserved[j] = 1;
        }
    }

    std::vector<int> empty_seq(int v) const {
        return d.slots[v].has_break ? std::vector<int>{-1} : std::vector<int>{};
    }

    void refresh(int v) { time_route(d, v, routes[v]); }

    void touch(Touched& touched, int v) {
        if (touch_mark[v] == stamp) return;
        touch_mark[v] = stamp;
        touched.emplace_back(v, routes[v].seq);
    }

    bool is_touched(int v) const { return touch_mark[v] == stamp; }

    void revert(const Touched& touched, const std::vector<char>& old_unserved) {
        for (const auto& [v, seq] : touched)
            for (int j : routes[v].seq)
                if (j >= 0) route_of[j] = -1;
        for (const auto& [v, seq] : touched) {
            routes[v].seq = seq;
            for (int j : seq)
                if (j >= 0) route_of[j] = v;
            refresh(v);
        }
        unserved = old_unserved;
    }

    i64 total() const {
        i64 sum = 0;
        for (const Route& r : routes) sum += r.cost;
        for (int j : candidates)
            if (unserved[j]) sum += d.jobs[j].penalty;
        return sum;
    }

    std::vector<std::vector<int>> sequences() const {
        std::vector<std::vector<int>> out;
        out.reserve(routes.size());
        for (const Route& r : routes) out.push_back(r.seq);
        return out;
    }
};

class Search {
  public:
    Search(const Data& data, const std::vector<std::vector<int>>& seqs, std::uint64_t seed)
        : d(data), st(data, seqs), rng(seed) {}

    // Runs until `seconds` have passed (if >= 0) or `iterations` are done (if >= 0); the
    // annealing temperature falls over [f0, f1] of its full schedule, so that several calls
    // (threads sharing their best plan between epochs) continue one schedule.
    std::pair<std::vector<std::vector<int>>, i64> run(double seconds, i64 iterations, double f0,
                                                      double f1) {
        using clock = std::chrono::steady_clock;
        if (!prepare()) return {st.sequences(), 0};
        i64 current = st.total();
        i64 best_cost = current;
        std::vector<std::vector<int>> best = st.sequences();
        int served = 0;
        for (int j : st.candidates) served += st.route_of[j] >= 0;
        served = std::max(1, served);
        int used = 0;
        i64 sum_costs = 0;
        for (const Route& r : st.routes) {
            used += r.cost != 0;
            sum_costs += r.cost;
        }
        used = std::max(1, used);
        const double arc = std::max(1.0, double(sum_costs) / double(served + used));
        const double t_start = d.t_start * arc, t_end = d.t_end * arc;
        const auto started = clock::now();
        const bool timed = seconds >= 0.0;
        const double total_time = std::max(1e-3, seconds);
        i64 k = 0;
        Touched touched;
        while (true) {
            if (iterations >= 0 && k >= iterations) break;
            const double elapsed = std::chrono::duration<double>(clock::now() - started).count();
            if (timed && elapsed >= seconds) break;
            const double along =
                timed ? elapsed / total_time : double(k) / double(std::max<i64>(1, iterations));
            const double frac = f0 + (f1 - f0) * along;
            const double temperature = t_start * std::pow(t_end / t_start, frac);
            ++k;
            touched.clear();
            st.stamp += 1;
            const bool eliminate = rng.random() < ELIMINATE;
            std::vector<int> removed = eliminate ? ruin_route(touched) : ruin(touched);
            if (removed.empty()) continue;
            const std::vector<char> old_unserved = st.unserved;
            recreate(removed, touched, !eliminate);
            if (rng.random() < LS_SHARE) {
                std::vector<int> changed;
                for (const auto& entry : touched) changed.push_back(entry.first);
                ls_touched = &touched;
                local_search(changed);
                ls_touched = nullptr;
            }
            const i64 now_cost = st.total();
            double u = rng.random();
            if (u == 0.0) u = 1e-12;
            if (double(now_cost) < double(current) - temperature * std::log(u)) {
                current = now_cost;
                if (now_cost < best_cost) {
                    // A new best plan is polished by local search around the routes it changed.
                    std::vector<int> changed;
                    for (const auto& entry : touched) changed.push_back(entry.first);
                    if (local_search(changed)) current = st.total();
                    best_cost = current;
                    best = st.sequences();
                }
            } else {
                st.revert(touched, old_unserved);
            }
        }
        iterations_done = k;
        return {best, best_cost};
    }

    i64 iterations_done = 0;

    // Local search alone over every route: (sequences, cost).
    std::pair<std::vector<std::vector<int>>, i64> polish() {
        if (prepare()) local_search({});
        return {st.sequences(), st.total()};
    }

  private:
    const Data& d;
    State st;
    Rng rng;
    std::vector<std::vector<int>> neighbours;  // per job; empty for jobs that are not movable
    std::vector<std::pair<i64, int>> detours;
    std::vector<int> near_mark;
    int near_stamp = 0;
    std::vector<int> class_seen, own_seen;  // stamps of the empty routes tried, by kind
    int empty_stamp = 0;

    // ---- Local search ---------------------------------------------------------------------
    // Relocate (before or after a neighbour), swap, 2-opt* (the tails of two routes exchanged)
    // and 2-opt (a segment of one route reversed), each between a visit and one of its nearest
    // neighbours, first improvement, until no move improves the plan. A move's travel and
    // assignment costs are priced from the arcs it removes and adds, in constant time for
    // relocate and swap; a move is timed in full only if that price is lower, or if a route it
    // touches has late visits (whose lateness the arcs do not show), so acceptance is exact
    // under every field constraint and most moves cost a few arithmetic operations.
    std::vector<int> movable;     // jobs the search may move
    std::vector<int> pos_of;      // stop index of each served job in its route
    std::vector<char> dirty, dirty_next;
    Route trial_a, trial_b;
    std::vector<int> seq_a, seq_b;
    Touched* ls_touched = nullptr;  // routes changed by local search inside an iteration

    i64 arc(int a, int b) const { return d.w_t * d.D(a, b) + d.w_d * d.X(a, b); }

    // Location of the visit before / after stop i of route v (its start / end if none); the
    // break costs no travel, so it is skipped.
    int loc_before(int v, int i) const {
        const auto& seq = st.routes[v].seq;
        for (int x = i - 1; x >= 0; --x)
            if (seq[x] >= 0) return d.jobs[seq[x]].loc;
        return d.slots[v].start_loc;
    }
    int loc_after(int v, int i) const {
        const auto& seq = st.routes[v].seq;
        for (int x = i + 1; x < int(seq.size()); ++x)
            if (seq[x] >= 0) return d.jobs[seq[x]].loc;
        return d.slots[v].end_loc;
    }
    int job_after(int v, int i) const {
        const auto& seq = st.routes[v].seq;
        for (int x = i + 1; x < int(seq.size()); ++x)
            if (seq[x] >= 0) return seq[x];
        return -1;
    }
    i64 arcs_of(int v, const std::vector<int>& seq) const {
        int loc = d.slots[v].start_loc;
        i64 c = 0;
        for (int j : seq)
            if (j >= 0) {
                c += arc(loc, d.jobs[j].loc);
                loc = d.jobs[j].loc;
            }
        return c + arc(loc, d.slots[v].end_loc);
    }
    static int breaks_in(const std::vector<int>& seq) {
        return int(std::count(seq.begin(), seq.end(), -1));
    }
    bool late_in(int v) const { return !st.routes[v].late.empty(); }

    void index_route(int v) {
        const auto& seq = st.routes[v].seq;
        for (int i = 0; i < int(seq.size()); ++i)
            if (seq[i] >= 0) {
                pos_of[seq[i]] = i;
                st.route_of[seq[i]] = v;
            }
    }

    // Times seq_a on route a (and seq_b on route b unless b < 0) and keeps them if every route
    // stays feasible and the plan gets cheaper.
    bool commit_if_better(int a, int b) {
        trial_a.seq = seq_a;
        time_route(d, a, trial_a);
        if (!feasible(d, a, trial_a)) return false;
        i64 delta = trial_a.cost - st.routes[a].cost;
        if (b >= 0) {
            trial_b.seq = seq_b;
            time_route(d, b, trial_b);
            if (!feasible(d, b, trial_b)) return false;
            delta += trial_b.cost - st.routes[b].cost;
        }
        if (delta >= 0) return false;
        if (ls_touched != nullptr) {
            st.touch(*ls_touched, a);
            if (b >= 0) st.touch(*ls_touched, b);
        }
        std::swap(st.routes[a], trial_a);
        index_route(a);
        dirty_next[a] = 1;
        if (b >= 0) {
            std::swap(st.routes[b], trial_b);
            index_route(b);
            dirty_next[b] = 1;
        }
        return true;
    }

    // u moves to stop `at` of route b (before the stop now there).
    bool relocate(int u, int a, int i, int b, int at, i64 delta) {
        if (delta >= 0 && !late_in(a)) return false;
        if (a == b) {
            seq_a = st.routes[a].seq;
            seq_a.erase(seq_a.begin() + i);
            seq_a.insert(seq_a.begin() + (at > i ? at - 1 : at), u);
            return seq_a != st.routes[a].seq && commit_if_better(a, -1);
        }
        seq_a = st.routes[a].seq;
        seq_a.erase(seq_a.begin() + i);
        seq_b = st.routes[b].seq;
        seq_b.insert(seq_b.begin() + at, u);
        return commit_if_better(a, b);
    }

    bool try_moves(int u, int w) {
        const int a = st.route_of[u], b = st.route_of[w];
        const int i = pos_of[u], k = pos_of[w];
        const int lu = d.jobs[u].loc, lw = d.jobs[w].loc;
        const int pu = loc_before(a, i), nu = loc_after(a, i);
        const int pw = loc_before(b, k), nw = loc_after(b, k);
        const bool other = a != b;
        const bool fits_b = !other || d.fixed_cost(b, u) != NONE;
        const i64 move_fixed = other && fits_b ? d.fixed_cost(b, u) - d.fixed_cost(a, u) : 0;
        const i64 removal = arc(pu, lu) + arc(lu, nu) - arc(pu, nu);
        if (fits_b) {
            // u before w: the arc u -> w; u after w: the arc w -> u.
            if (job_after(a, i) != w) {
                const i64 delta = arc(pw, lu) + arc(lu, lw) - arc(pw, lw) - removal + move_fixed;
                if (relocate(u, a, i, b, k, delta)) return true;
            }
            if (job_after(b, k) != u) {
                const i64 delta = arc(lw, lu) + arc(lu, nw) - arc(lw, nw) - removal + move_fixed;
                if (relocate(u, a, i, b, k + 1, delta)) return true;
            }
        }
        if (fits_b && (!other || d.fixed_cost(a, w) != NONE) && job_after(a, i) != w &&
            job_after(b, k) != u) {
            i64 delta = arc(pu, lw) + arc(lw, nu) - arc(pu, lu) - arc(lu, nu) + arc(pw, lu) +
                        arc(lu, nw) - arc(pw, lw) - arc(lw, nw);
            if (other)
                delta += move_fixed + d.fixed_cost(a, w) - d.fixed_cost(b, w);
            if (delta < 0 || late_in(a) || late_in(b)) {
                seq_a = st.routes[a].seq;
                if (other) {
                    seq_b = st.routes[b].seq;
                    seq_a[i] = w;
                    seq_b[k] = u;
                    if (commit_if_better(a, b)) return true;
                } else {
                    std::swap(seq_a[i], seq_a[k]);
                    if (commit_if_better(a, -1)) return true;
                }
            }
        }
        return other ? two_opt_star(a, i, b, k) : two_opt(a, i, k);
    }

    // Route a keeps its head up to u and takes b's tail from w; b keeps its head before w and
    // takes a's tail after u: the arc u -> w.
    bool two_opt_star(int a, int i, int b, int k) {
        const auto& sa = st.routes[a].seq;
        const auto& sb = st.routes[b].seq;
        i64 delta = 0;
        for (int x = i + 1; x < int(sa.size()); ++x) {
            const int j = sa[x];
            if (j < 0) continue;
            if (d.fixed_cost(b, j) == NONE) return false;
            delta += d.fixed_cost(b, j) - d.fixed_cost(a, j);
        }
        for (int x = k; x < int(sb.size()); ++x) {
            const int j = sb[x];
            if (j < 0) continue;
            if (d.fixed_cost(a, j) == NONE) return false;
            delta += d.fixed_cost(a, j) - d.fixed_cost(b, j);
        }
        seq_a.assign(sa.begin(), sa.begin() + i + 1);
        seq_a.insert(seq_a.end(), sb.begin() + k, sb.end());
        seq_b.assign(sb.begin(), sb.begin() + k);
        seq_b.insert(seq_b.end(), sa.begin() + i + 1, sa.end());
        if (breaks_in(seq_a) != breaks_in(sa) || breaks_in(seq_b) != breaks_in(sb)) return false;
        delta += arcs_of(a, seq_a) + arcs_of(b, seq_b) - arcs_of(a, sa) - arcs_of(b, sb);
        if (delta >= 0 && !late_in(a) && !late_in(b)) return false;
        return commit_if_better(a, b);
    }

    // The stops strictly between u (at i) and w (at k), and w, reversed: the arc u -> w
    // (or, with w before u, the stops from w up to u reversed: the arc w -> u).
    bool two_opt(int a, int i, int k) {
        const auto& sa = st.routes[a].seq;
        seq_a = sa;
        if (i < k)
            std::reverse(seq_a.begin() + i + 1, seq_a.begin() + k + 1);
        else
            std::reverse(seq_a.begin() + k, seq_a.begin() + i);
        if (seq_a == sa) return false;
        const i64 delta = arcs_of(a, seq_a) - arcs_of(a, sa);
        if (delta >= 0 && !late_in(a)) return false;
        return commit_if_better(a, -1);
    }

    // Improves the plan by moves until none helps, first around the routes in `start` (every
    // route if it is empty); returns whether it changed anything.
    bool local_search(const std::vector<int>& start) {
        const int n_routes = int(st.routes.size());
        dirty.assign(n_routes, start.empty() ? 1 : 0);
        for (int v : start) dirty[v] = 1;
        dirty_next.assign(n_routes, 0);
        for (int v = 0; v < n_routes; ++v) index_route(v);
        std::vector<int> order = movable;
        rng.shuffle(order);
        bool changed = false;
        for (int pass = 0; pass < MAX_LS_PASSES; ++pass) {
            bool improved = false;
            for (int u : order) {
                if (st.route_of[u] < 0) continue;
                const auto& near = neighbours[u];
                const std::size_t n_near = std::min<std::size_t>(near.size(), LS_NEIGHBOURS + 1);
                for (std::size_t x = 0; x < n_near; ++x) {
                    const int w = near[x];
                    if (w == u || st.route_of[w] < 0) continue;
                    if (!dirty[st.route_of[u]] && !dirty[st.route_of[w]] &&
                        !dirty_next[st.route_of[u]] && !dirty_next[st.route_of[w]])
                        continue;
                    if (try_moves(u, w)) improved = true;
                    if (st.route_of[u] < 0) break;
                }
            }
            if (!improved) break;
            changed = true;
            dirty.swap(dirty_next);
            std::fill(dirty_next.begin(), dirty_next.end(), 0);
        }
        return changed;
    }

    bool prepare() {
        movable.clear();
        for (int j : st.candidates)
            if (d.jobs[j].progress == IDLE) movable.push_back(j);
        if (movable.empty()) return false;
        build_neighbours();
        pos_of.assign(d.jobs.size(), -1);
        return true;
    }

    void build_neighbours() {
        neighbours.assign(d.jobs.size(), {});
        const std::size_t keep = std::min<std::size_t>(movable.size(), NEIGHBOURS + 1);
        std::vector<std::pair<i64, int>> order(movable.size());
        for (int j : movable) {
            const int lj = d.jobs[j].loc;
            for (std::size_t i = 0; i < movable.size(); ++i)
                order[i] = {d.D(lj, d.jobs[movable[i]].loc), int(i)};
            std::partial_sort(order.begin(), order.begin() + keep, order.end());
            auto& out = neighbours[j];
            out.reserve(keep);
            for (std::size_t i = 0; i < keep; ++i) out.push_back(movable[order[i].second]);
        }
        near_mark.assign(d.slots.size() + 1, -1);
        class_seen.assign(d.slots.size() + 1, -1);
        own_seen.assign(d.slots.size() + 1, -1);
    }

    const std::vector<int>& neighbours_of(int j, std::vector<int>& alone) const {
        if (!neighbours[j].empty()) return neighbours[j];
        alone.assign(1, j);
        return alone;
    }

    std::vector<int> ruin(Touched& touched) {
        std::vector<int> served;
        for (int j : st.candidates)
            if (st.route_of[j] >= 0) served.push_back(j);
        std::vector<int> removed;
        if (served.empty()) return removed;
        int seed_job = served[rng.randrange(int(served.size()))];
        if (rng.random() < 0.5) {
            // Aim half of the ruins at late visits: lateness is what planners see first.
            std::vector<int> late;
            for (const Route& r : st.routes)
                for (int j : r.late)
                    if (d.jobs[j].progress == IDLE) late.push_back(j);
            if (!late.empty()) seed_job = late[rng.randrange(int(late.size()))];
        }
        double sizes = 0.0;
        int used = 0;
        for (const Route& r : st.routes)
            if (r.n_visits) {
                sizes += r.n_visits;
                used += 1;
            }
        const double avg_len = sizes / used;
        const double l_max = std::min(double(MAX_STRING), avg_len);
        const double k_max = 4.0 * AVG_REMOVED / (1.0 + l_max) - 1.0;
        const int k_routes = int(rng.uniform(1.0, k_max + 1.0));
        std::vector<int> alone;
        int n_touched = 0;
        for (int j : neighbours_of(seed_job, alone)) {
            if (n_touched >= k_routes) break;
            const int v = st.route_of[j];
            if (v < 0 || st.is_touched(v)) continue;
            st.touch(touched, v);
            n_touched += 1;
            const std::vector<int> seq = st.routes[v].seq;
            std::vector<int> jobs_in;
            for (int i = 0; i < int(seq.size()); ++i)
                if (seq[i] >= 0) jobs_in.push_back(i);
            const int size = int(jobs_in.size());
            const int length = std::min(size, int(rng.uniform(1.0, l_max + 1.0)));
            int pos = 0;
            for (int i = 0; i < size; ++i)
                if (seq[jobs_in[i]] == j) pos = i;
            int first = std::max(0, std::min(pos - rng.randrange(length), size - length));
            std::vector<int> chosen(jobs_in.begin() + first, jobs_in.begin() + first + length);
            if (rng.random() < 0.5 && size > length) {
                // Split string: keep one inner run of visits, as SISR's bypass does.
                const int extra = std::min(size - length, 1 + int(rng.random() * 2));
                const int total = length + extra;
                first = std::max(0, std::min(pos - rng.randrange(total), size - total));
                const int keep_at = rng.randrange(total - extra + 1);
                chosen.clear();
                for (int i = 0; i < total; ++i)
                    if (i < keep_at || i >= keep_at + extra) chosen.push_back(jobs_in[first + i]);
            }
            std::vector<char> drop(seq.size(), 0);
            for (int i : chosen)
                if (d.jobs[seq[i]].progress == IDLE) drop[i] = 1;
            std::vector<int> kept;
            for (int i = 0; i < int(seq.size()); ++i)
                if (!drop[i]) kept.push_back(seq[i]);
            st.routes[v].seq = kept;
            st.refresh(v);
            if (!feasible(d, v, st.routes[v]) && !replace_break(v)) {
                // Taking visits out moved the break to a place it no longer fits: keep it.
                st.routes[v].seq = seq;
                st.refresh(v);
                continue;
            }
            for (int i = 0; i < int(seq.size()); ++i)
                if (drop[i]) {
                    removed.push_back(seq[i]);
                    st.route_of[seq[i]] = -1;
                }
        }
        return removed;
    }

    std::vector<int> ruin_route(Touched& touched) {
        std::vector<int> used;
        for (int v = 0; v < int(st.routes.size()); ++v)
            if (st.routes[v].n_visits) used.push_back(v);
        std::vector<int> removed;
        if (used.size() < 2) return removed;
        const int a = used[rng.randrange(int(used.size()))];
        const int b = used[rng.randrange(int(used.size()))];
        const int v = st.routes[a].n_visits <= st.routes[b].n_visits ? a : b;
        for (int j : st.routes[v].seq)
            if (j >= 0 && d.jobs[j].progress != IDLE) return removed;
        st.touch(touched, v);
        for (int j : st.routes[v].seq)
            if (j >= 0) removed.push_back(j);
        st.routes[v].seq = st.empty_seq(v);
        st.refresh(v);
        for (int j : removed) st.route_of[j] = -1;
        return removed;
    }

    bool replace_break(int v) {
        const std::vector<int> seq = st.routes[v].seq;
        if (std::find(seq.begin(), seq.end(), -1) == seq.end()) return false;
        std::vector<int> jobs;
        for (int j : seq)
            if (j >= 0) jobs.push_back(j);
        bool found = false;
        i64 best_cost = 0;
        std::vector<int> best;
        for (std::size_t i = 0; i <= jobs.size(); ++i) {
            std::vector<int> trial(jobs.begin(), jobs.begin() + i);
            trial.push_back(-1);
            trial.insert(trial.end(), jobs.begin() + i, jobs.end());
            st.routes[v].seq = trial;
            st.refresh(v);
            if (feasible(d, v, st.routes[v]) && (!found || st.routes[v].cost < best_cost)) {
                found = true;
                best_cost = st.routes[v].cost;
                best = trial;
            }
        }
        st.routes[v].seq = found ? best : seq;
        st.refresh(v);
        return found;
    }

    i64 far(int j) const {
        const SlotD& slot = d.slots[d.cand[j][0]];
        return d.D(slot.start_loc, d.jobs[j].loc);
    }

    void recreate(const std::vector<int>& removed, Touched& touched, bool open_routes) {
        std::vector<int> order = removed;
        std::vector<char> in_removed(d.jobs.size(), 0);
        for (int j : removed) in_removed[j] = 1;
        for (int j : st.candidates)
            if (st.unserved[j] && !in_removed[j]) order.push_back(j);
        const double how = rng.random();
        if (how < 0.4) {
            rng.shuffle(order);
        } else if (how < 0.7) {
            std::stable_sort(order.begin(), order.end(),
                             [&](int a, int b) { return d.jobs[a].demand > d.jobs[b].demand; });
        } else if (how < 0.85) {
            std::stable_sort(order.begin(), order.end(),
                             [&](int a, int b) { return far(a) > far(b); });
        } else {
            std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
                return d.jobs[a].latest_key < d.jobs[b].latest_key;
            });
        }
        for (int j : st.candidates) st.unserved[j] = 0;
        std::vector<int> alone;
        for (int j : order) {
            const JobD& job = d.jobs[j];
            empty_stamp += 1;
            // Granular insertion: only routes serving one of the job's nearest neighbours,
            // and empty routes; a job fits elsewhere only at a higher cost.
            near_stamp += 1;
            const auto& near = neighbours_of(j, alone);
            const std::size_t n_near = std::min<std::size_t>(near.size(), GRANULAR);
            for (std::size_t i = 0; i < n_near; ++i) {
                const int v = st.route_of[near[i]];
                if (v >= 0) near_mark[v] = near_stamp;
            }
            bool found = false;
            i64 best_cost = 0;
            int best_v = -1, best_p = -1;
            for (int v : d.cand[j]) {
                const Route& r = st.routes[v];
                if (r.n_visits) {
                    if (near_mark[v] != near_stamp) continue;
                } else {
                    if (!open_routes) continue;
                    // Identical empty engineer-days give identical insertions: try one of each.
                    // (An engineer's skills change the cost of a job that needs some.)
                    std::vector<int>& seen = job.skills ? own_seen : class_seen;
                    const int key = job.skills ? d.slots[v].own_class : d.slots[v].empty_class;
                    if (seen[key] == empty_stamp) continue;
                    seen[key] = empty_stamp;
                }
                if (rng.random() < BLINK) continue;
                const Insertion ins = best_in_route(d, v, r, j, detours);
                if (ins.p >= 0 && (!found || ins.cost < best_cost)) {
                    found = true;
                    best_cost = ins.cost;
                    best_v = v;
                    best_p = ins.p;
                }
            }
            if (!found || best_cost >= job.penalty) {
                st.unserved[j] = 1;
                continue;
            }
            st.touch(touched, best_v);
            auto& seq = st.routes[best_v].seq;
            seq.insert(seq.begin() + best_p, j);
            st.route_of[j] = best_v;
            st.refresh(best_v);
        }
    }
};

template <class T>
std::vector<T> field(const py::dict& data, const char* name) {
    if (!data.contains(name)) throw std::invalid_argument(std::string("core data: missing ") + name);
    return data[name].cast<std::vector<T>>();
}

Data make_data(const py::dict& data) {
    Data d;
    d.n_loc = data["n_loc"].cast<int>();
    d.dur = field<i64>(data, "durations");
    d.dist = field<i64>(data, "distances");
    const std::size_t cells = std::size_t(d.n_loc) * std::size_t(d.n_loc);
    if (d.dur.size() != cells || d.dist.size() != cells)
        throw std::invalid_argument("core data: matrices must be n_loc x n_loc");
    d.w_t = data["travel_per_s"].cast<i64>();
    d.w_d = data["distance_per_unit"].cast<i64>();
    d.t_start = data["anneal_start"].cast<double>();
    d.t_end = data["anneal_end"].cast<double>();
    if (!(d.t_start > 0.0 && d.t_end > 0.0 && d.t_end <= d.t_start))
        throw std::invalid_argument("core data: 0 < anneal_end <= anneal_start");
    const auto loc = field<int>(data, "job_location");
    const auto service = field<i64>(data, "job_service");
    const auto demand = field<i64>(data, "job_demand");
    const auto w_ptr = field<int>(data, "job_windows");
    d.win_start = field<i64>(data, "window_start");
    d.win_end = field<i64>(data, "window_end");
    const auto due = field<i64>(data, "job_due");
    const auto late_w = field<i64>(data, "job_late_weight");
    const auto lo = field<i64>(data, "job_lo");
    const auto hi = field<i64>(data, "job_hi");
    const auto hi_unc = field<i64>(data, "job_hi_uncapped");
    const auto progress = field<int>(data, "job_progress");
    const auto started = field<i64>(data, "job_started");
    const auto penalty = field<i64>(data, "job_penalty");
    const auto skills = field<int>(data, "job_skills");
    const std::size_t n_jobs = loc.size();
    if (w_ptr.size() != n_jobs + 1) throw std::invalid_argument("core data: job_windows");
    d.jobs.resize(n_jobs);
    for (std::size_t j = 0; j < n_jobs; ++j) {
        JobD& job = d.jobs[j];
        if (loc[j] < 0 || loc[j] >= d.n_loc) throw std::invalid_argument("core data: location");
        job.loc = loc[j];
        job.service = service.at(j);
        job.demand = demand.at(j);
        job.w_begin = w_ptr[j];
        job.w_end = w_ptr[j + 1];
        job.due = due.at(j);
        job.late_w = late_w.at(j);
        job.lo = lo.at(j);
        job.hi = hi.at(j);
        job.hi_uncapped = hi_unc.at(j);
        job.progress = progress.at(j);
        job.started = started.at(j);
        job.penalty = penalty.at(j);
        job.skills = skills.at(j) != 0;
        job.latest_key = job.w_begin == job.w_end ? FAR : d.win_end.at(job.w_end - 1);
    }
    const auto s_start = field<int>(data, "slot_start_location");
    const auto s_end = field<int>(data, "slot_end_location");
    const auto s_t0 = field<i64>(data, "slot_start_time");
    const auto s_t1 = field<i64>(data, "slot_end_time");
    const auto s_work = field<i64>(data, "slot_max_work");
    const auto s_visits = field<i64>(data, "slot_max_visits");
    const auto s_cap = field<i64>(data, "slot_capacity");
    const auto s_brk = field<int>(data, "slot_has_break");
    const auto s_be = field<i64>(data, "slot_break_earliest");
    const auto s_bl = field<i64>(data, "slot_break_latest");
    const auto s_bd = field<i64>(data, "slot_break_duration");
    const auto s_eng = field<int>(data, "slot_engineer");
    const auto s_class = field<int>(data, "slot_empty_class");
    const std::size_t n_slots = s_start.size();
    d.slots.resize(n_slots);
    for (std::size_t v = 0; v < n_slots; ++v) {
        SlotD& s = d.slots[v];
        s.start_loc = s_start[v];
        s.end_loc = s_end.at(v);
        s.start_time = s_t0.at(v);
        s.end_time = s_t1.at(v);
        s.max_work = s_work.at(v);
        s.max_visits = s_visits.at(v);
        s.capacity = s_cap.at(v);
        s.has_break = s_brk.at(v) != 0;
        s.b_earliest = s_be.at(v);
        s.b_latest = s_bl.at(v);
        s.b_dur = s_bd.at(v);
        s.engineer = s_eng.at(v);
        s.empty_class = s_class.at(v);
        if (s.empty_class < 0 || std::size_t(s.empty_class) >= n_slots)
            throw std::invalid_argument("core data: slot_empty_class");
    }
    std::vector<std::pair<int, int>> pairs;
    for (const SlotD& s : d.slots) pairs.emplace_back(s.empty_class, s.engineer);
    std::vector<std::pair<int, int>> distinct = pairs;
    std::sort(distinct.begin(), distinct.end());
    distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
    for (std::size_t v = 0; v < n_slots; ++v) {
        d.slots[v].own_class = int(std::lower_bound(distinct.begin(), distinct.end(), pairs[v]) -
                                   distinct.begin());
    }
    d.cand = data["candidates"].cast<std::vector<std::vector<int>>>();
    const auto fixed = data["fixed"].cast<std::vector<std::vector<i64>>>();
    if (d.cand.size() != n_jobs || fixed.size() != n_jobs)
        throw std::invalid_argument("core data: one candidate list per job");
    d.fixed.assign(n_slots * n_jobs, NONE);
    for (std::size_t j = 0; j < n_jobs; ++j) {
        if (fixed[j].size() != d.cand[j].size())
            throw std::invalid_argument("core data: one fixed cost per candidate");
        for (std::size_t k = 0; k < d.cand[j].size(); ++k) {
            const int v = d.cand[j][k];
            if (v < 0 || std::size_t(v) >= n_slots) throw std::invalid_argument("core data: slot");
            d.fixed[std::size_t(v) * n_jobs + j] = fixed[j][k];
        }
    }
    return d;
}

void check_slot(const Data& d, int v) {
    if (v < 0 || std::size_t(v) >= d.slots.size())
        throw std::out_of_range("engineer-day index out of range");
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "Onsite's compiled search core (see optimizer/compiled.py)";
    m.attr("NONE") = py::int_(NONE);
    py::class_<Data>(m, "Core")
        .def(py::init(&make_data), py::arg("data"))
        .def(
            "route",
            [](const Data& d, int v, const std::vector<int>& seq) {
                check_slot(d, v);
                Route r;
                r.seq = seq;
                time_route(d, v, r);
                return py::make_tuple(feasible(d, v, r), r.cost, r.earliest, r.latest, r.late);
            },
            py::arg("slot"), py::arg("sequence"),
            "(feasible, cost, earliest starts, latest starts, late jobs) of one route")
        .def(
            "best_insertion",
            [](const Data& d, int v, const std::vector<int>& seq, int j) -> py::object {
                check_slot(d, v);
                if (j < 0 || std::size_t(j) >= d.jobs.size())
                    throw std::out_of_range("job index out of range");
                if (d.fixed_cost(v, j) == NONE) return py::none();
                Route r;
                r.seq = seq;
                time_route(d, v, r);
                std::vector<std::pair<i64, int>> detours;
                const Insertion ins = best_in_route(d, v, r, j, detours);
                if (ins.p < 0) return py::none();
                return py::make_tuple(ins.cost, ins.p);
            },
            py::arg("slot"), py::arg("sequence"), py::arg("job"),
            "(cost, stop index) of the cheapest feasible insertion, or None")
        .def(
            "search",
            [](const Data& d, const std::vector<std::vector<int>>& seqs, double seconds,
               i64 iterations, std::uint64_t seed, double f0, double f1) {
                if (seconds < 0 && iterations < 0)
                    throw std::invalid_argument("search: give seconds or iterations");
                Search search(d, seqs, seed);
                std::pair<std::vector<std::vector<int>>, i64> out;
                {
                    py::gil_scoped_release release;
                    out = search.run(seconds, iterations, f0, f1);
                }
                return py::make_tuple(out.first, out.second, search.iterations_done);
            },
            py::arg("sequences"), py::arg("seconds"), py::arg("iterations"), py::arg("seed"),
            py::arg("schedule_from") = 0.0, py::arg("schedule_to") = 1.0,
            "ruin-and-recreate: (best sequences, their cost, iterations run)")
        .def(
            "local_search",
            [](const Data& d, const std::vector<std::vector<int>>& seqs, std::uint64_t seed) {
                Search search(d, seqs, seed);
                std::pair<std::vector<std::vector<int>>, i64> out;
                {
                    py::gil_scoped_release release;
                    out = search.polish();
                }
                return py::make_tuple(out.first, out.second);
            },
            py::arg("sequences"), py::arg("seed") = 0,
            "relocate, swap, 2-opt* and 2-opt until none improves: (sequences, their cost)");
}
