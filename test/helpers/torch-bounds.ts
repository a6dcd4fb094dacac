/**
 * How far PyTorch 1.13's float64 values (the golden `none`, `torch_sum`, `torch_mean`,
 * `torch_batchmean`) are from losseval's reference, in ulp, per loss: the maxima measured over
 * every golden case (test/unit/golden-torch-bounds.test.ts checks they are exactly these, so a
 * bound never goes stale) and the README's Accuracy table. `terms`: per-element / per-row terms
 * (for binary_cross_entropy, bce_with_logits and soft_margin the golden `none` is the 2.x
 * formula evaluated with torch's / libm's functions, see test/golden/README.md); `reduced`: sum,
 * mean and batchmean, where PyTorch's cascade summation adds its own rounding.
 */
export const TORCH_ULP_BOUNDS: Readonly<Record<string, { readonly terms: number; readonly reduced: number }>> = {
  l1_loss: { terms: 0, reduced: 1 },
  mse_loss: { terms: 0, reduced: 1 },
  smooth_l1_loss: { terms: 0, reduced: 1 },
  huber_loss: { terms: 0, reduced: 1 },
  nll_loss: { terms: 0, reduced: 2 },
  cross_entropy: { terms: 15, reduced: 2 },
  binary_cross_entropy: { terms: 2, reduced: 1 },
  binary_cross_entropy_with_logits: { terms: 157, reduced: 1 },
  kl_div: { terms: 2, reduced: 1 },
  poisson_nll_loss: { terms: 16, reduced: 2 },
  gaussian_nll_loss: { terms: 32, reduced: 1 },
  soft_margin_loss: { terms: 2, reduced: 1 },
  multilabel_soft_margin_loss: { terms: 2, reduced: 1 },
  hinge_embedding_loss: { terms: 0, reduced: 1 },
  multi_margin_loss: { terms: 0, reduced: 3 },
  margin_ranking_loss: { terms: 0, reduced: 1 },
  cosine_embedding_loss: { terms: 0, reduced: 1 },
};
