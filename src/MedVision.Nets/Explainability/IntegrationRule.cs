namespace MedVision.Nets.Explainability;

/// <summary>
/// How <see cref="IntegratedGradients"/> approximates the path integral: where on the path from the baseline (α = 0)
/// to the input (α = 1) the gradients are taken, and how they are weighted — Captum's <c>method</c> argument.
/// </summary>
public enum IntegrationRule
{
    /// <summary>Gauss–Legendre quadrature on [0, 1] (Captum's default): exact for integrands polynomial in α up to degree 2n − 1.</summary>
    GaussLegendre = 0,

    /// <summary>Left Riemann sum: α = 0, 1/n, …, (n − 1)/n, each weighted 1/n.</summary>
    RiemannLeft = 1,

    /// <summary>Right Riemann sum: α = 1/n, 2/n, …, 1, each weighted 1/n.</summary>
    RiemannRight = 2,

    /// <summary>Midpoint Riemann sum: α = 1/(2n), 3/(2n), …, 1 − 1/(2n), each weighted 1/n.</summary>
    RiemannMiddle = 3,

    /// <summary>Trapezoid rule: α = 0, 1/(n − 1), …, 1, the ends weighted 1/(2(n − 1)) and the rest 1/(n − 1); needs n ≥ 2.</summary>
    RiemannTrapezoid = 4,
}
