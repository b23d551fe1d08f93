#include "tinykws/train/train_data.h"

#include "tinykws/audio/clips.h"
#include "tinykws/common/error.h"

namespace tkws {

std::vector<float> TrainData::epoch_features(const Config& cfg, int epoch, int threads) const {
  if (!per_epoch) return tr_clean;
  const TrainConfig& tc = cfg.train;
  auto f = extract_features(
      n_train(), [&](int i, float* out) { set->clip(epoch, i, out); }, cfg.frontend, &tc.augment,
      tc.seed, epoch, threads, &background);
  if (tc.normalize) normalize(f, stats, n_train(), frames, coeffs);
  return f;
}

std::unique_ptr<TrainData> prepare_train_data(const Config& cfg,
                                              const std::vector<std::string>& roots, int threads) {
  const TrainConfig& tc = cfg.train;
  const FrontendConfig& fe = cfg.frontend;
  auto d = std::make_unique<TrainData>();
  d->ds = scan_datasets(roots);
  const Dataset& ds = d->ds;
  d->plan = plan_classes(tc, ds);
  const ClassPlan& plan = d->plan;
  if (plan.labels.size() < 2) throw InputError(ds.root + ": training needs at least two classes");

  std::vector<const ClipRef*> kw_refs, unk_refs, val_refs;
  for (const auto& c : ds.clips) {
    const int cls = plan.train_class[c.label];
    if (c.split == Split::kTrain && cls >= 0)
      (cls < plan.num_keywords ? kw_refs : unk_refs).push_back(&c);
    if (c.split == Split::kVal && plan.val_group[c.label] >= 0) val_refs.push_back(&c);
  }
  if (kw_refs.empty()) throw InputError(ds.root + ": the training split holds no keyword clips");
  if (val_refs.empty())
    throw InputError(ds.root +
                     ": the validation split holds no clips (model selection needs one: add "
                     "validation_list.txt or use the speaker-hash layout)");
  d->words = load_clips(kw_refs, fe.sample_rate, fe.clip_samples, threads).samples;
  for (auto* r : kw_refs) d->word_class.push_back(plan.train_class[r->label]);
  if (plan.unknown >= 0) {
    if (unk_refs.empty())
      throw InputError(ds.root + ": the training split holds no clips of the unknown words");
    d->unknown_pool = load_clips(unk_refs, fe.sample_rate, fe.clip_samples, threads).samples;
  }
  const bool non_keywords = plan.unknown >= 0 || plan.silence >= 0;
  const bool needs_bg = tc.has_silence() || tc.augment.background_frequency > 0.0f;
  if (needs_bg || (non_keywords && !ds.background.empty()))
    d->background = BackgroundNoise(ds.background, fe.sample_rate, fe.clip_samples, ds.root);
  d->set = std::make_unique<EpochSet>(tc, fe.clip_samples, d->words, d->word_class, d->unknown_pool,
                                      plan.unknown, plan.silence, &d->background);

  d->val_clips = load_clips(val_refs, fe.sample_rate, fe.clip_samples, threads).samples;
  for (auto* r : val_refs) {
    d->val_labels.push_back(plan.val_class[r->label]);
    d->val_groups.push_back(static_cast<uint8_t>(plan.val_group[r->label]));
    d->val_names.push_back(r->rel);
    d->val_words.push_back(ds.labels[r->label]);
  }
  if (non_keywords) {  // background windows count in selection when a class can take them
    auto windows = background_eval_windows(d->background);
    for (size_t i = 0; i < windows.size(); ++i) {
      d->val_clips.push_back(std::move(windows[i]));
      d->val_labels.push_back(plan.silence >= 0 ? plan.silence : plan.unknown);
      d->val_groups.push_back(static_cast<uint8_t>(ClipGroup::kBackground));
      d->val_names.push_back("background window " + std::to_string(i));
      d->val_words.emplace_back();
    }
  }

  d->frames = fe.num_frames();
  d->coeffs = fe.num_features();
  d->per = static_cast<size_t>(d->frames) * d->coeffs;
  d->per_epoch = tc.augment.per_clip() || d->set->num_unknown() > 0 || d->set->num_silence() > 0;
  // Features without augmentation: their statistics define the normalisation.
  d->tr_clean = extract_features(
      d->n_train(), [&](int i, float* out) { d->set->clip(0, i, out); }, fe, nullptr, tc.seed, 0,
      threads);
  d->va_feats = extract_features(d->val_clips, fe, nullptr, tc.seed, 0, threads);
  if (tc.normalize) {
    d->stats = compute_stats(d->tr_clean, d->n_train(), d->frames, d->coeffs);
    normalize(d->tr_clean, d->stats, d->n_train(), d->frames, d->coeffs);
    normalize(d->va_feats, d->stats, d->n_val(), d->frames, d->coeffs);
  }
  return d;
}

}  // namespace tkws
