using System.CommandLine;
using System.Globalization;
using MedVision.Nets.Training;
using MedVision.Torch.Optim;

namespace MedVision.Samples;

/// <summary>
/// --optimizer, --weight-decay, --schedule, --warmup-epochs, --restart-epochs, --restart-mult, --swa-lr (with --swa-start, --swa-anneal-epochs) and --ema
/// (with --ema-warmup) of the training samples: the optimizer, the learning-rate schedule and weight averaging (stochastic,
/// or an exponential moving average), defaulting to each sample's published recipe (Adam, ×0.1 at 50% and 75% of the
/// epochs, no averaging).
/// </summary>
internal sealed class OptimizationCommandLine
{
    public Option<string> Optimizer { get; } = new Option<string>("--optimizer")
    {
        Description = "adam (the recipe), adamw, sgd (momentum 0.9), rmsprop, nadam or radam, with PyTorch's defaults besides --lr and --weight-decay.",
        DefaultValueFactory = _ => "adam",
    }.OneOf("adam", "adamw", "sgd", "rmsprop", "nadam", "radam");

    public Option<double?> WeightDecay { get; } = new Option<double?>("--weight-decay")
    {
        Description = "Weight decay: an L2 term added to the gradient, or decoupled for adamw (default 0; 0.01 for adamw).",
    }.NonNegative();

    public Option<string> Schedule { get; } = new Option<string>("--schedule")
    {
        Description = "multistep (×0.1 at 50% and 75% of the epochs: the recipe), cosine (cosine annealing over the epochs), onecycle (the 1cycle policy over every optimizer step; --lr is its peak and momentum is cycled), warm-restarts (SGDR: cosine annealing to 0 over --restart-epochs, then restarting at --lr, stepped after every optimizer step), plateau (×0.1 when the validation AUC has not improved for 10 epochs) or constant.",
        DefaultValueFactory = _ => "multistep",
    }.OneOf("multistep", "cosine", "onecycle", "warm-restarts", "plateau", "constant");

    public Option<int> RestartEpochs { get; } = new Option<int>("--restart-epochs")
    {
        Description = "With --schedule warm-restarts: the epochs of the first cycle (SGDR's T_0).",
        DefaultValueFactory = _ => 10,
    }.AtLeast(1);

    public Option<int> RestartMultiplier { get; } = new Option<int>("--restart-mult")
    {
        Description = "With --schedule warm-restarts: each next cycle is this many times longer (SGDR's T_mult).",
        DefaultValueFactory = _ => 1,
    }.AtLeast(1);

    public Option<int> WarmupEpochs { get; } = new Option<int>("--warmup-epochs")
    {
        Description = "Linear warm-up epochs (from a third of --lr) before --schedule cosine anneals.",
        DefaultValueFactory = _ => 0,
    }.AtLeast(0);

    public Option<double?> SwaLearningRate { get; } = new Option<double?>("--swa-lr")
    {
        Description = "Stochastic weight averaging: from --swa-start of the epochs on, the learning rate anneals to this value over --swa-anneal-epochs and each epoch's weights are averaged; the average, with batch-norm statistics recomputed, is evaluated and selected like any epoch's model.",
    }.Positive();

    public Option<double> SwaStart { get; } = new Option<double>("--swa-start")
    {
        Description = "With --swa-lr: the fraction of the epochs before averaging starts.",
        DefaultValueFactory = _ => 0.8,
    }.Fraction(allowZero: true);

    public Option<int> SwaAnnealEpochs { get; } = new Option<int>("--swa-anneal-epochs")
    {
        Description = "With --swa-lr: the epochs over which the learning rate moves (cosine) to --swa-lr.",
        DefaultValueFactory = _ => 10,
    }.AtLeast(0);

    public Option<double?> Ema { get; } = WeightAveragingOptions.Ema();

    public Option<bool> EmaWarmup { get; } = WeightAveragingOptions.EmaWarmup();

    public Option<double> HeadLearningRateMultiplier { get; } = new Option<double>("--head-lr-mult")
    {
        Description = "With --init-weights: the new classifier learns at this multiple of --lr, the pretrained layers at --lr (MedicalNet fine-tunes its new layers at 100× with SGD); 1: one rate for all.",
        DefaultValueFactory = _ => 1,
    }.Positive();

    private bool _headMultiplier;

    /// <summary>Adds --optimizer and --weight-decay only (for commands that do not schedule).</summary>
    public void AddOptimizerTo(Command command)
    {
        command.Options.Add(Optimizer);
        command.Options.Add(WeightDecay);
    }

    /// <summary>Adds the options to <paramref name="command"/>, with the checks that involve <paramref name="epochs"/>.</summary>
    public void AddTo(Command command, Option<int> epochs)
    {
        AddOptimizerTo(command);
        command.Options.Add(Schedule);
        command.Options.Add(WarmupEpochs);
        command.Options.Add(RestartEpochs);
        command.Options.Add(RestartMultiplier);
        command.Options.Add(SwaLearningRate);
        command.Options.Add(SwaStart);
        command.Options.Add(SwaAnnealEpochs);
        command.Options.Add(Ema);
        command.Options.Add(EmaWarmup);
        command.Check(r => WeightAveragingOptions.Check(r.GetValue(EmaWarmup), r.GetValue(Ema)));
        command.Check(r => r.GetValue(Ema) is not null && r.GetValue(SwaLearningRate) is not null
            ? "--ema and --swa-lr are two kinds of weight averaging; choose one." : null);
        command.Check(r => r.GetValue(SwaLearningRate) is null && (Given(r, SwaStart) || Given(r, SwaAnnealEpochs))
            ? "--swa-start and --swa-anneal-epochs apply to stochastic weight averaging: give --swa-lr too." : null);
        command.Check(r => r.GetValue(WarmupEpochs) > 0 && r.GetValue(Schedule) != "cosine" ? "--warmup-epochs applies to --schedule cosine." : null);
        command.Check(r => (Given(r, RestartEpochs) || Given(r, RestartMultiplier)) && r.GetValue(Schedule) != "warm-restarts"
            ? "--restart-epochs and --restart-mult apply to --schedule warm-restarts." : null);
        command.Check(r => r.GetValue(Schedule) == "cosine" && r.GetValue(WarmupEpochs) >= r.GetValue(epochs)
            ? $"--warmup-epochs {r.GetValue(WarmupEpochs)} leaves none of the {r.GetValue(epochs)} epochs for the cosine schedule." : null);
    }

    /// <summary>
    /// Adds --head-lr-mult (after <see cref="AddTo"/>) to a command that fine-tunes pretrained weights with a new
    /// classifier: refused without <paramref name="initWeights"/> (unless <paramref name="resume"/> continues such a run)
    /// and with the schedules that set one rate for every parameter group.
    /// </summary>
    public void AddHeadMultiplierTo(Command command, Option<string?> initWeights, Option<bool>? resume = null)
    {
        _headMultiplier = true;
        command.Options.Add(HeadLearningRateMultiplier);
        command.Check(r => r.GetValue(HeadLearningRateMultiplier) != 1 && (r.GetValue(Schedule) == "onecycle" || r.GetValue(SwaLearningRate) is not null)
            ? "--head-lr-mult needs a schedule that scales each rate (1cycle and weight averaging set one rate for all): leave out --schedule onecycle and --swa-lr." : null);
        command.Check(r => r.GetValue(HeadLearningRateMultiplier) != 1 && r.GetValue(initWeights) is null && !(resume is not null && r.GetValue(resume))
            ? "--head-lr-mult sets the rate of the classifier that replaces a pretrained one: give --init-weights (or --resume the run that had them)." : null);
    }

    private static bool Given<T>(ParseResult result, Option<T> option) => result.GetResult(option) is { Implicit: false };

    public OptimizationRecipe Read(ParseResult result) => new(result.GetValue(Optimizer)!, result.GetValue(WeightDecay), result.GetValue(Schedule)!, result.GetValue(WarmupEpochs))
    {
        RestartEpochs = result.GetValue(RestartEpochs),
        RestartMultiplier = result.GetValue(RestartMultiplier),
        Swa = result.GetValue(SwaLearningRate) is double lr ? new SwaRecipe(lr, result.GetValue(SwaStart), result.GetValue(SwaAnnealEpochs)) : null,
        Ema = result.GetValue(Ema),
        EmaWarmup = result.GetValue(EmaWarmup),
        HeadMultiplier = _headMultiplier ? result.GetValue(HeadLearningRateMultiplier) : 1,
    };
}

/// <summary>Stochastic weight averaging as the command line asked for it.</summary>
internal sealed record SwaRecipe(double LearningRate, double StartFraction, int AnnealEpochs);

/// <summary>The optimizer and schedule a training sample was asked for.</summary>
internal sealed record OptimizationRecipe(string Optimizer, double? WeightDecay, string Schedule, int WarmupEpochs)
{
    /// <summary>Stochastic weight averaging, or null (--swa-lr not given).</summary>
    public SwaRecipe? Swa { get; init; }

    /// <summary>--ema: the decay of an exponential moving average of the weights, or null.</summary>
    public double? Ema { get; init; }

    /// <summary>--ema-warmup: the average's decay starts low.</summary>
    public bool EmaWarmup { get; init; }

    /// <summary>--restart-epochs: the first warm-restart cycle's epochs.</summary>
    public int RestartEpochs { get; init; } = 10;

    /// <summary>--head-lr-mult: the new classifier's rate as a multiple of the others' (1: one rate).</summary>
    public double HeadMultiplier { get; init; } = 1;

    /// <summary>--restart-mult: the growth of each next warm-restart cycle.</summary>
    public int RestartMultiplier { get; init; } = 1;

    private double Decay => WeightDecay ?? (Optimizer == "adamw" ? 1e-2 : 0);

    /// <summary>Creates the optimizer of --optimizer and --weight-decay with <paramref name="learningRate"/>.</summary>
    public Func<IReadOnlyList<MedVision.Torch.Tensor>, Optimizer> OptimizerFactory(double learningRate)
    {
        double decay = Decay;
        return Optimizer switch
        {
            "adam" => p => new Adam(p, learningRate, weightDecay: decay),
            "sgd" => p => new Sgd(p, learningRate, momentum: 0.9, weightDecay: decay),
            "adamw" => p => new AdamW(p, learningRate, weightDecay: decay),
            "rmsprop" => p => new RmsProp(p, learningRate, weightDecay: decay),
            "nadam" => p => new NAdam(p, learningRate, weightDecay: decay),
            "radam" => p => new RAdam(p, learningRate, weightDecay: decay),
            _ => throw new InvalidOperationException($"--optimizer {Optimizer} was checked while parsing."),
        };
    }

    /// <summary>
    /// The optimizer of --optimizer with two parameter groups: the parameters <paramref name="isHead"/> picks (a new
    /// classifier) at <paramref name="headMultiplier"/> × <paramref name="learningRate"/>, the others at it (MedicalNet
    /// fine-tunes its new layers at 100×). The schedules scale each group from its own rate.
    /// </summary>
    public Func<IReadOnlyList<MedVision.Torch.Tensor>, Optimizer> OptimizerFactory(double learningRate, Func<MedVision.Torch.Tensor, bool> isHead, double headMultiplier)
    {
        ArgumentNullException.ThrowIfNull(isHead);
        var single = OptimizerFactory(learningRate);
        if (headMultiplier == 1) return single;
        double decay = Decay, head = learningRate * headMultiplier;
        return p =>
        {
            var rest = p.Where(t => !isHead(t)).ToList();
            var top = p.Where(isHead).ToList();
            if (rest.Count == 0 || top.Count == 0) return single(p);
            return Optimizer switch
            {
                "adam" => new Adam(new[] { new AdamParameterGroup(rest, learningRate, weightDecay: decay), new AdamParameterGroup(top, head, weightDecay: decay) }),
                "adamw" => new AdamW(new[] { new AdamParameterGroup(rest, learningRate, weightDecay: decay), new AdamParameterGroup(top, head, weightDecay: decay) }),
                "sgd" => new Sgd(new[] { new SgdParameterGroup(rest, learningRate, momentum: 0.9, weightDecay: decay), new SgdParameterGroup(top, head, momentum: 0.9, weightDecay: decay) }),
                "rmsprop" => new RmsProp(new[] { new RmsPropParameterGroup(rest, learningRate, weightDecay: decay), new RmsPropParameterGroup(top, head, weightDecay: decay) }),
                "nadam" => new NAdam(new[] { new NAdamParameterGroup(rest, learningRate, weightDecay: decay), new NAdamParameterGroup(top, head, weightDecay: decay) }),
                "radam" => new RAdam(new[] { new RAdamParameterGroup(rest, learningRate, weightDecay: decay), new RAdamParameterGroup(top, head, weightDecay: decay) }),
                _ => throw new InvalidOperationException($"--optimizer {Optimizer} was checked while parsing."),
            };
        };
    }

    /// <summary>Sets the optimizer and the schedule of <paramref name="builder"/>.</summary>
    public TrainerBuilder ApplyTo(TrainerBuilder builder, double learningRate) => ApplyTo(builder, learningRate, OptimizerFactory(learningRate));

    /// <summary>
    /// Sets the optimizer and the schedule of <paramref name="builder"/>, the parameters of <paramref name="head"/> (a new
    /// classifier) in a group of their own at <see cref="HeadMultiplier"/> × <paramref name="learningRate"/>.
    /// </summary>
    public TrainerBuilder ApplyTo(TrainerBuilder builder, double learningRate, MedVision.Torch.Nn.Module head)
    {
        ArgumentNullException.ThrowIfNull(head);
        var own = head.Parameters().ToList();
        return ApplyTo(builder, learningRate, OptimizerFactory(learningRate, t => own.Any(p => ReferenceEquals(p, t)), HeadMultiplier));
    }

    /// <summary>Sets the optimizer <paramref name="optimizer"/> creates and the schedule of <paramref name="builder"/>.</summary>
    public TrainerBuilder ApplyTo(TrainerBuilder builder, double learningRate, Func<IReadOnlyList<MedVision.Torch.Tensor>, Optimizer> optimizer)
    {
        builder.UseOptimizer(optimizer);
        _ = Schedule switch
        {
            "multistep" => builder.WithMultiStepSchedule(0.5, 0.75, 0.1),
            "cosine" => builder.WithCosineSchedule(WarmupEpochs),
            "onecycle" => builder.WithOneCycleSchedule(learningRate),
            "warm-restarts" => builder.WithWarmRestartsSchedule(RestartEpochs, RestartMultiplier),
            "plateau" => builder.WithPlateauSchedule(),
            "constant" => builder,
            _ => throw new InvalidOperationException($"--schedule {Schedule} was checked while parsing."),
        };
        if (Swa is { } swa) builder.WithStochasticWeightAveraging(swa.LearningRate, swa.StartFraction, swa.AnnealEpochs);
        if (Ema is double decay) builder.AverageWeights(decay, EmaWarmup);
        return builder;
    }

    /// <summary>The optimizer's name and weight decay, e.g. "SGD (momentum 0.9), weight decay 0.0001".</summary>
    public string DescribeOptimizer()
    {
        var decay = Decay == 0 ? "" : ", weight decay " + Decay.ToString("G3", CultureInfo.InvariantCulture);
        var name = Optimizer switch { "adam" => "Adam", "adamw" => "AdamW", "sgd" => "SGD (momentum 0.9)", "rmsprop" => "RMSprop", "nadam" => "NAdam", _ => "RAdam" };
        return name + decay;
    }

    /// <summary>One line for the console, e.g. "Adam, lr 0.001, ×0.1 at 50% and 75% of the epochs".</summary>
    public string Describe(double learningRate)
    {
        var schedule = Schedule switch
        {
            "multistep" => "×0.1 at 50% and 75% of the epochs",
            "cosine" => WarmupEpochs > 0 ? $"{WarmupEpochs} warm-up epochs, then cosine annealing" : "cosine annealing over the epochs",
            "onecycle" => "1cycle over every optimizer step (peak at 30%, momentum cycled)",
            "warm-restarts" => RestartMultiplier == 1
                ? $"cosine annealing with warm restarts every {(RestartEpochs == 1 ? "epoch" : $"{RestartEpochs} epochs")}, stepped after every optimizer step"
                : $"cosine annealing with warm restarts, the first cycle {RestartEpochs} epochs, each next {RestartMultiplier}× longer, stepped after every optimizer step",
            "plateau" => "×0.1 after 10 epochs without a better validation AUC",
            _ => "constant learning rate",
        };
        var swa = Swa is { } w
            ? string.Create(CultureInfo.InvariantCulture, $"; weights averaged from {w.StartFraction * 100:0.#}% of the epochs at lr {w.LearningRate:G3} (reached in {w.AnnealEpochs} epochs)")
            : "";
        var ema = Ema is double d ? string.Create(CultureInfo.InvariantCulture, $"; weights averaged (EMA, decay {d:G4}{(EmaWarmup ? ", warm-up" : "")})") : "";
        var head = HeadMultiplier == 1 ? "" : string.Create(CultureInfo.InvariantCulture, $"; the new classifier at {HeadMultiplier:G3}× (lr {learningRate * HeadMultiplier:G3})");
        return $"{DescribeOptimizer()}, lr {learningRate.ToString("G3", CultureInfo.InvariantCulture)}, {schedule}{swa}{ema}{head}";
    }
}
