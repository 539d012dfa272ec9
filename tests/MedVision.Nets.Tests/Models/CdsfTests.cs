using MedVision.Nets.Blocks;
using MedVision.Nets.Data.Synthetic;
using MedVision.Nets.Models;
using MedVision.Torch;
using MedVision.Torch.Nn;

namespace MedVision.Nets.Tests.Models;


public class CdsfTests
{
    [Theory]
    [InlineData(NormalizationKind.Instance, 16)]
    [InlineData(NormalizationKind.Batch, 28)]
    public void Ism_SynthesisesPetOfTheSameSizeInTanhRange(NormalizationKind normalization, int size)
    {
        using var ism = new Ism(normalization);
        using var scope = Tensors.NewDisposeScope();
        var mri = Tensors.Randn(2, 1, size, size, size);
        var pet = ism.Call(mri);
        pet.Shape.Should().Equal(2, 1, size, size, size);
        pet.Abs().Max().Item().Should().BeLessThanOrEqualTo(1.0);
        pet.Sum().Backward();
        foreach (var (name, p) in ism.NamedParameters())
        {
            using var grad = p.Grad;
            grad.Should().NotBeNull(because: name);
        }
        ism.NamedModules().Count(m => m.Module is GeneratorResidualBlock).Should().Be(6);
    }

    [Fact]
    public void Ism_RejectsSizesNotDivisibleByFour()
    {
        using var ism = new Ism(residualBlocks: 1);
        using var x = Tensors.Zeros(1, 1, 16, 16, 18);
        ism.Invoking(m => m.Call(x)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("input");
    }

    [Theory]
    [InlineData(33, 33, 33, 8)]
    [InlineData(36, 36, 72, 12)]
    public void Mdm_ComputesItsClassifierInputFromTheVolumeSize(long d, long h, long w, long positions)
    {
        using var mdm = new Mdm(new[] { d, h, w }, numClasses: 3);
        mdm.Positions.Should().Be(positions);
        mdm.FeatureCount.Should().Be(64 * positions);
        mdm.StateDict()["classifier.weight"].Shape.Should().Equal(3, 64 * positions);
        mdm.Eval();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var pair = Tensors.Randn(1, 2, d, h, w);
        var (features, logits) = mdm.ForwardWithFeatures(pair);
        features.Shape.Should().Equal(1, 64 * positions);
        features.Norm().Item().Should().BeApproximately(1.0, 1e-5);
        logits.Shape.Should().Equal(1, 3);
        mdm.Probabilities(pair).Sum().Item().Should().BeApproximately(1.0, 1e-5);
    }

    [Fact]
    public void Mdm_RejectsVolumesTooSmallForItsFivePools()
    {
        FluentActions.Invoking(() => new Mdm(new long[] { 32, 36, 36 })).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("volumeSize");
    }

    [Fact]
    public void Mdm_WithOneInputChannel_ClassifiesASingleModality_AndRejectsPairs()
    {
        using var mdm = new Mdm(new long[] { 36, 36, 36 }, inputChannels: 1);
        mdm.InputChannels.Should().Be(1);
        mdm.StateDict()["features.conv1.weight"].Shape.Should().Equal(16, 1, 3, 3, 3);
        using var scope = Tensors.NewDisposeScope();
        var loss = Functional.CrossEntropy(mdm.Call(Tensors.Randn(2, 1, 36, 36, 36)), Tensors.FromArray(new long[] { 0, 1 }));
        loss.Backward();
        using (var grad = mdm.StateDict()["features.conv1.weight"].Grad) grad.Should().NotBeNull();
        mdm.Invoking(m => m.Call(Tensors.Randn(2, 2, 36, 36, 36))).Should().Throw<ArgumentException>()
            .WithMessage("MDM expects (N, 1, 36, 36, 36), got [2, 2, 36, 36, 36].*");
        using var pairs = new Mdm(new long[] { 36, 36, 36 });
        pairs.InputChannels.Should().Be(2);
        pairs.Invoking(m => m.Call(Tensors.Randn(2, 1, 36, 36, 36))).Should().Throw<ArgumentException>()
            .WithMessage("MDM expects (MRI, PET) pairs (N, 2, 36, 36, 36), got [2, 1, 36, 36, 36].*");
        FluentActions.Invoking(() => new Mdm(new long[] { 36, 36, 36 }, inputChannels: 0)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("inputChannels");
    }

    [Fact]
    public void Mdm_BackpropagatesToEveryParameter()
    {
        using var mdm = new Mdm(new long[] { 36, 36, 36 });
        using var scope = Tensors.NewDisposeScope();
        var loss = Functional.CrossEntropy(mdm.Call(Tensors.Randn(2, 2, 36, 36, 36)), Tensors.FromArray(new long[] { 0, 1 }));
        loss.Backward();
        foreach (var (name, p) in mdm.NamedParameters())
        {
            using var grad = p.Grad;
            grad.Should().NotBeNull(because: name);
        }
    }

    [Fact]
    public void Cdsf_DiagnosesWithAndWithoutPet_AndSummarises()
    {
        using var model = Cdsf.Builder().ForVolume(36, 36, 36).WithClasses(2).WithResidualBlocks(2).Build();
        model.StateDict().Keys.Should().OnlyContain(k => k.StartsWith("ism.", StringComparison.Ordinal) || k.StartsWith("mdm.", StringComparison.Ordinal));
        model.Eval();
        using var scope = Tensors.NewDisposeScope();
        using var noGrad = Tensors.NoGrad();
        var mri = Tensors.Randn(2, 1, 36, 36, 36);
        var pet = Tensors.Rand(2, 1, 36, 36, 36);
        var withoutPet = model.Diagnose(mri);
        var withPet = model.Diagnose(mri, pet);
        withoutPet.Shape.Should().Equal(2, 2);
        withPet.Shape.Should().Equal(2, 2);
        withoutPet.Sum(1).AllClose(Tensors.Ones(2), atol: 1e-5).Should().BeTrue();
        var expected = model.Diagnosis.Probabilities(Cdsf.Pair(mri, model.Synthesize(mri)));
        withoutPet.AllClose(expected, atol: 1e-6).Should().BeTrue();
        model.Summary(1, 1, 36, 36, 36).TotalParameters.Should().Be(model.Synthesis.ParameterCount() + model.Diagnosis.ParameterCount());
    }

    [Fact]
    public void TrainingStep_RunsAndUpdatesBothModules()
    {
        Tensors.ManualSeed(11);
        using var model = Cdsf.Builder().ForVolume(36, 36, 36).WithResidualBlocks(2).Build();
        using var trainer = CdsfTrainer.For(model).WithLossWeights(voxel: 1, feature: 0.5, classification: 0.1).WithFeatureConsistency(FeatureConsistencyLoss.Mse).Build();
        using var scope = Tensors.NewDisposeScope();
        var (mri, pet, labels) = SyntheticSubjects(2);
        var ismBefore = model.StateDict()["ism.encoder.conv1.weight"].Clone();
        var mdmBefore = model.StateDict()["mdm.classifier.weight"].Clone();
        var losses = trainer.Step(mri, pet, labels);
        new[] { losses.DiagnosisReal, losses.DiagnosisSynthetic, losses.Voxel, losses.FeatureConsistency, losses.SynthesisClassification, losses.SynthesisTotal }
            .Should().OnlyContain(v => double.IsFinite(v) && v >= 0);
        losses.SynthesisTotal.Should().BeApproximately(losses.Voxel + 0.5 * losses.FeatureConsistency + 0.1 * losses.SynthesisClassification, 1e-5);
        model.StateDict()["ism.encoder.conv1.weight"].AllClose(ismBefore).Should().BeFalse();
        model.StateDict()["mdm.classifier.weight"].AllClose(mdmBefore).Should().BeFalse();
    }

    [Fact]
    public void AFewDozenSteps_ReduceTheVoxelAndTheDiagnosisLoss()
    {
        Tensors.ManualSeed(5);
        using var model = Cdsf.Builder().ForVolume(36, 36, 36).WithResidualBlocks(1).Build();
        using var trainer = CdsfTrainer.For(model).WithLearningRates(synthesis: 2e-3, diagnosis: 2e-3).Build();
        using var scope = Tensors.NewDisposeScope();
        var (mri, pet, labels) = SyntheticSubjects(2);
        var history = new List<CdsfStepLosses>();
        for (int step = 0; step < 20; step++)
        {
            using var stepScope = Tensors.NewDisposeScope();
            history.Add(trainer.Step(mri, pet, labels));
        }
        var first = (Voxel: history.Take(3).Average(l => l.Voxel), Diagnosis: history.Take(3).Average(l => l.DiagnosisTotal));
        var last = (Voxel: history.TakeLast(3).Average(l => l.Voxel), Diagnosis: history.TakeLast(3).Average(l => l.DiagnosisTotal));
        last.Voxel.Should().BeLessThan(0.7 * first.Voxel, because: $"L1 went {first.Voxel:F4} -> {last.Voxel:F4}");
        last.Diagnosis.Should().BeLessThan(0.7 * first.Diagnosis, because: $"diagnosis loss went {first.Diagnosis:F4} -> {last.Diagnosis:F4}");
    }

    [Fact]
    public void Step_UpdatesTheDiagnosisBatchStatisticsOncePerStep()
    {
        // Real and synthetic pairs go through the MDM as one batch; the ISM's update runs the MDM in evaluation mode.
        // So each step moves the running statistics once, by the same mixture the MDM was trained on.
        Tensors.ManualSeed(2);
        using var model = Cdsf.Builder().ForVolume(36, 36, 36).WithResidualBlocks(1).Build();
        using var trainer = CdsfTrainer.For(model).Build();
        using var scope = Tensors.NewDisposeScope();
        var (mri, pet, labels) = SyntheticSubjects(2);
        trainer.Step(mri, pet, labels);
        trainer.Step(mri, pet, labels);
        var tracked = model.StateDict().Where(kv => kv.Key.StartsWith("mdm.", StringComparison.Ordinal) && kv.Key.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToList();
        tracked.Should().NotBeEmpty();
        tracked.Should().OnlyContain(kv => kv.Value.Item<long>() == 2, because: "two steps, one batch-statistics update each");
        model.Diagnosis.Training.Should().BeTrue();
        model.Synthesis.Training.Should().BeTrue();
    }

    [Fact]
    public void DefaultSynthesisRate_LearnsThePhantomsInsteadOfCollapsingToTheBackground()
    {
        // Mostly-background volumes: predicting the background (−1) everywhere is a tempting constant. With Adam at 1e-3
        // (or 2e-4 with β₁ 0.9) the ISM falls into it and its saturated tanh stops learning; the defaults must get clearly
        // below that constant's L1.
        Tensors.ManualSeed(3);
        using var model = Cdsf.Builder().ForVolume(36, 36, 36).WithResidualBlocks(1).Build();
        using var trainer = CdsfTrainer.For(model).Build();
        using var scope = Tensors.NewDisposeScope();
        var phantoms = new PhantomGenerator(size: 36, seed: 1).Generate(0, 2);
        Tensor Volumes(Func<PhantomSubject, float[]> modality) =>
            Tensors.FromArray(phantoms.SelectMany(modality).Select(v => v * 2 - 1).ToArray(), 2, 1, 36, 36, 36);
        var mri = Volumes(p => p.Mri);
        var pet = Volumes(p => p.Pet);
        var labels = Tensors.FromArray(phantoms.Select(p => (long)p.Label).ToArray());
        double background = (pet + 1).Abs().Mean().Item<float>();
        var voxel = new List<double>();
        for (int step = 0; step < StepsToLearnPhantoms; step++)
        {
            using var stepScope = Tensors.NewDisposeScope();
            voxel.Add(trainer.Step(mri, pet, labels).Voxel);
        }
        voxel.TakeLast(3).Average().Should().BeLessThan(0.8 * background,
            because: $"the constant background prediction has L1 {background:F4}; the voxel L1 went {string.Join(", ", voxel.Select(v => v.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)))}");
    }

    private const int StepsToLearnPhantoms = 30;

    [Fact]
    public void ANonFiniteLoss_StopsBeforeTheModuleItBelongsToIsUpdated()
    {
        Tensors.ManualSeed(12);
        using var model = Cdsf.Builder().ForVolume(36, 36, 36).WithResidualBlocks(1).Build();
        using var scope = Tensors.NewDisposeScope();
        var (mri, pet, labels) = SyntheticSubjects(2);
        Tensor Ism() => model.StateDict()["ism.encoder.conv1.weight"].Clone();
        Tensor Mdm() => model.StateDict()["mdm.classifier.weight"].Clone();

        // A voxel weight beyond float32 makes only the synthesis loss infinite: the diagnosis module takes its step, the
        // synthesis module keeps its weights (before, it stepped through the infinite loss's gradients into NaN weights).
        using (var overflowing = CdsfTrainer.For(model).WithLossWeights(voxel: 1e308, feature: 0.5, classification: 0.1).Build())
        {
            var ismBefore = Ism();
            var mdmBefore = Mdm();
            overflowing.Invoking(t => t.Step(mri, pet, labels)).Should().Throw<MedVision.Nets.Training.TrainingDivergedException>()
                .WithMessage("The loss became * at step 0 (terms: synthesis_voxel=*, synthesis_feature=*, synthesis_classification=*)*").Which.Epoch.Should().Be(-1);
            Ism().AllClose(ismBefore, 0, 0).Should().BeTrue();
            Mdm().AllClose(mdmBefore).Should().BeFalse();
            model.Parameters().Should().OnlyContain(p => p.IsFinite().All().Item() == 1);
        }
        var mdmAfterFirstStep = Mdm();

        // A NaN in a volume is refused before the first forward pass, which would have written it into batch
        // normalisation's running statistics (found writing this test: the next good step then gave NaN losses).
        using var trainer = CdsfTrainer.For(model).Build();
        var badMri = mri.Clone();
        badMri[1, 0, 0, 0, 0].FillInPlace(double.NaN);
        var buffers = model.StateDict().Where(p => p.Key.Contains("running_", StringComparison.Ordinal)).ToDictionary(p => p.Key, p => p.Value.Clone());
        buffers.Should().NotBeEmpty();
        trainer.Invoking(t => t.Step(badMri, pet, labels)).Should().Throw<ArgumentException>().WithMessage("mri holds NaN or infinite values (1 NaN of *").Which.ParamName.Should().Be("mri");
        foreach (var (name, before) in buffers) model.StateDict()[name].AllClose(before, 0, 0).Should().BeTrue(name);

        // Logits beyond float32 make the diagnosis loss NaN: neither module is updated.
        using (Tensors.NoGrad()) model.StateDict()["mdm.classifier.weight"].FillInPlace(3e38);
        var ism = Ism();
        var mdm = Mdm();
        trainer.Invoking(t => t.Step(mri, pet, labels)).Should().Throw<MedVision.Nets.Training.TrainingDivergedException>().WithMessage("*diagnosis_real=NaN*");
        Mdm().AllClose(mdm, 0, 0).Should().BeTrue();
        Ism().AllClose(ism, 0, 0).Should().BeTrue();
        using (Tensors.NoGrad()) model.StateDict()["mdm.classifier.weight"].CopyInPlace(mdmAfterFirstStep);

        trainer.Step(mri, pet, labels).SynthesisTotal.Should().BeGreaterThan(0, "the trainer goes on with good data");
        trainer.StepCount.Should().Be(1);
    }

    [Fact]
    public void BadOptions_FailNamingTheOption()
    {
        Cdsf.Builder().Invoking(b => b.ForVolume(36, 38, 36)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("depth");
        Cdsf.Builder().Invoking(b => b.WithClasses(1)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("numClasses");
        Cdsf.Builder().Invoking(b => b.Build()).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("VolumeSize");
        using var model = Cdsf.Builder().ForVolume(36, 36, 36).WithResidualBlocks(1).Build();
        CdsfTrainer.For(model).Invoking(b => b.WithLearningRates(0, 1e-3)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("synthesis");
        CdsfTrainer.For(model).Invoking(b => b.WithSynthesisBetas(1.0)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("beta1");
        CdsfTrainer.For(model).Invoking(b => b.WithSynthesisBetas(0.5, double.NaN)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("beta2");
        new CdsfTrainingOptions { SynthesisBeta1 = -0.1 }.Invoking(o => o.Validate()).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("SynthesisBeta1");
        CdsfTrainer.For(model).Invoking(b => b.WithLossWeights(1, -1, 1)).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("feature");
    }

    /// <summary>
    /// Subjects whose class raises the intensity of a central cube in both modalities; PET is a fixed function of MRI
    /// and the class, scaled into the tanh range.
    /// </summary>
    private static (Tensor Mri, Tensor Pet, Tensor Labels) SyntheticSubjects(int count)
    {
        var labels = Enumerable.Range(0, count).Select(i => (long)(i % 2)).ToArray();
        var mri = Tensors.Randn(count, 1, 36, 36, 36) * 0.1;
        var mask = Tensors.Zeros(1, 1, 36, 36, 36);
        mask[.., .., 10..26, 10..26, 10..26].FillInPlace(1);
        var classes = Tensors.FromArray(labels.Select(l => (float)l).ToArray(), count, 1, 1, 1, 1);
        var raised = mri + mask * classes * 0.8 + mask * 0.2;
        var pet = raised * 0.6 - 0.3;
        return (raised, pet, Tensors.FromArray(labels));
    }
}
