using System.CommandLine;
using System.Reflection;

namespace MedVision.Samples.Tests;

/// <summary>
/// The samples' command lines, parsed in this process (nothing is run): every number and choice is checked while
/// parsing, bad values and combinations get a message naming the option, and good command lines get none. One
/// end-to-end run checks what the user sees.
/// </summary>
public class CommandLineTests
{
    private static readonly string[] Apps = ["medmnist", "mtcsnn", "cdsf", "fundus-folder", "volume-folder", "mvlaunch"];

    // Options whose every value is meaningful.
    private static readonly HashSet<string> Unconstrained = ["--seed"];

    /// <summary>Each sample's commands, built as its Program.cs builds them: every static Create() that returns a Command.</summary>
    private static IEnumerable<(string App, Command Command)> Commands() =>
        from app in Apps
        from type in Assembly.Load(app).GetTypes()
        let create = type.GetMethod("Create", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic, Type.EmptyTypes)
        where create is not null && typeof(Command).IsAssignableFrom(create.ReturnType)
        select (app, (Command)create.Invoke(null, null)!);

    private static Command CommandOf(string app, string name) =>
        Commands().Single(c => c.App == app && (c.Command.Name == name || (c.Command is RootCommand && name == app))).Command;

    // What SampleCommandLine prints for a command line (through the app's own copy of OptionRules).
    private static IReadOnlyList<string> Problems(string app, Command command, params string[] args)
    {
        var problems = Assembly.Load(app).GetType("MedVision.Samples.OptionRules", throwOnError: true)!.GetMethod("Problems")!;
        return (IReadOnlyList<string>)problems.Invoke(null, [command.Parse(args)])!;
    }

    // T of an Option<T> (T? unwrapped); typeof(void) for options without a value type (--help, --version).
    private static Type ValueType(Option option)
    {
        for (var t = option.GetType(); t is not null; t = t.BaseType)
        {
            if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(Option<>))
            {
                var type = t.GetGenericArguments()[0];
                return Nullable.GetUnderlyingType(type) ?? type;
            }
        }
        return typeof(void);
    }

    [Fact]
    public void EveryThreadsOption_DefaultsToMedvisionThreads_ElseTheProcessorCount()
    {
        var withThreads = Commands().Select(c => (c.App, c.Command, Option: c.Command.Options.SingleOrDefault(o => o.Name == "--threads") as Option<int>))
            .Where(c => c.Option is not null).ToList();
        withThreads.Should().HaveCountGreaterThan(8, "training, evaluation and comparison commands of every sample take --threads");
        var saved = Environment.GetEnvironmentVariable("MEDVISION_THREADS");
        try
        {
            foreach (var (value, expected) in new[] { ("3", 3), ("0", Environment.ProcessorCount), ("many", Environment.ProcessorCount) })
            {
                Environment.SetEnvironmentVariable("MEDVISION_THREADS", value);
                foreach (var (app, command, option) in withThreads)
                    command.Parse(Array.Empty<string>()).GetValue(option!).Should().Be(expected, $"{app} {command.Name} with MEDVISION_THREADS={value}");
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable("MEDVISION_THREADS", saved);
        }
    }

    [Fact]
    public void EveryNumberAndEnumOption_IsCheckedWhileParsing()
    {
        var numeric = new[] { typeof(int), typeof(long), typeof(double), typeof(float) };
        var all = Commands().SelectMany(c => c.Command.Options.Select(o => (c.App, c.Command, Option: o))).ToList();
        var checkedOptions = all.Where(x => numeric.Contains(ValueType(x.Option)) || ValueType(x.Option).IsEnum).ToList();
        checkedOptions.Should().HaveCountGreaterThan(40, "the samples have that many numeric and enum options");
        var unvalidated = checkedOptions.Where(x => x.Option.Validators.Count == 0 && !Unconstrained.Contains(x.Option.Name))
            .Select(x => $"{x.App} {x.Command.Name} {x.Option.Name}").ToList();
        unvalidated.Should().BeEmpty("a number or enum value out of range must be refused before anything runs, naming the option");
    }

    [Theory]
    [InlineData("medmnist", "train", "--epochs 0", "--epochs must be at least 1, got 0.")]
    [InlineData("medmnist", "train", "--world-size 0", "--world-size must be at least 1, got 0.")]
    [InlineData("medmnist", "train", "--rank 5", "--rank must be 0 when --world-size is 1, got 5.")]
    [InlineData("medmnist", "train", "--rank 2 --world-size 2", "--rank must be in 0…1 (--world-size 2), got 2.")]
    [InlineData("medmnist", "train", "--master-port 70000", "--master-port must be in 1…65535, got 70000.")]
    [InlineData("medmnist", "train", "--batch 3 --world-size 2", "--batch 3 must split evenly over the 2 processes of --world-size.")]
    [InlineData("medmnist", "train", "--mixup 0.2 --cutmix 1", "Choose --mixup or --cutmix, not both.")]
    [InlineData("medmnist", "train", "--tensorboard-histograms", "--tensorboard-histograms needs --tensorboard FOLDER.")]
    [InlineData("medmnist", "train", "--head ordinal", "--head must be linear or coral, got ordinal.")]
    [InlineData("mtcsnn", "compare", "--head softmax", "--head must be linear or coral, got softmax.")]
    [InlineData("medmnist", "cross-validate", "--head coral --model vit-tiny", "--head coral ends a ResNet; a vision transformer keeps its linear head.")]
    [InlineData("fundus-folder", "train", "--head coral --model vit-b16", "--head coral ends a ResNet; --model vit-b16 keeps its linear head.")]
    [InlineData("medmnist", "train", "--mixup NaN", "--mixup must be a positive number, got NaN.")]
    [InlineData("medmnist", "train", "--lr Infinity", "--lr must be a positive number, got Infinity.")]
    [InlineData("medmnist", "train", "--device gpu", "--device must be cpu, cuda or cuda:N, got gpu.")]
    [InlineData("medmnist", "train", "--resolution 64", "--resolution must be 28 or 224, got 64.")]
    [InlineData("medmnist", "train", "--model vgg16", "--model must be resnet18, resnet50, vit-tiny, vit-small, vit-b16 or vit-b32, got vgg16.")]
    [InlineData("medmnist", "train", "--threads 0", "--threads must be at least 1, got 0.")]
    [InlineData("medmnist", "train", "--epochs abc", "Cannot parse argument 'abc' for option '--epochs' as expected type 'System.Int32'.")]
    [InlineData("medmnist", "train", "--optimizer lbfgs", "--optimizer must be adam, adamw, sgd, rmsprop, nadam or radam, got lbfgs.")]
    [InlineData("medmnist", "train", "--schedule cyclic", "--schedule must be multistep, cosine, onecycle, warm-restarts, plateau or constant, got cyclic.")]
    [InlineData("medmnist", "train", "--restart-epochs 5", "--restart-epochs and --restart-mult apply to --schedule warm-restarts.")]
    [InlineData("fundus-folder", "train", "--schedule cosine --restart-mult 2", "--restart-epochs and --restart-mult apply to --schedule warm-restarts.")]
    [InlineData("medmnist", "train", "--schedule warm-restarts --restart-epochs 0", "--restart-epochs must be at least 1, got 0.")]
    [InlineData("medmnist", "train", "--weight-decay -1", "--weight-decay must be a finite number ≥ 0, got -1.")]
    [InlineData("medmnist", "train", "--schedule cosine --warmup-epochs 5 --epochs 5", "--warmup-epochs 5 leaves none of the 5 epochs for the cosine schedule.")]
    [InlineData("fundus-folder", "train", "--warmup-epochs 2", "--warmup-epochs applies to --schedule cosine.")]
    [InlineData("medmnist", "train", "--swa-start 0.5", "--swa-start and --swa-anneal-epochs apply to stochastic weight averaging: give --swa-lr too.")]
    [InlineData("fundus-folder", "train", "--swa-anneal-epochs 3", "--swa-start and --swa-anneal-epochs apply to stochastic weight averaging: give --swa-lr too.")]
    [InlineData("medmnist", "train", "--swa-lr 0.01 --swa-start 1", "--swa-start must be in [0, 1), got 1.")]
    [InlineData("medmnist", "train", "--swa-lr -0.01", "--swa-lr must be a positive number, got -0.01.")]
    [InlineData("medmnist", "train", "--ema-warmup", "--ema-warmup warms up the weight average of --ema; give --ema DECAY too.")]
    [InlineData("fundus-folder", "train", "--ema 0.99 --swa-lr 0.001", "--ema and --swa-lr are two kinds of weight averaging; choose one.")]
    [InlineData("medmnist", "train", "--ema 1", "--ema must be a decay in [0, 1), got 1.")]
    [InlineData("medmnist", "predict", "--flips 99 --model m.safetensors x.png", "--flips must be None, Horizontal, Vertical or Depth (or several, comma-separated), got 99.")]
    [InlineData("medmnist", "predict", "--cam 7 --model m.safetensors x.png", "--cam must be GradCam, GradCamPlusPlus, AttentionRollout or GradientAttentionRollout, got 7.")]
    [InlineData("medmnist", "predict", "--attribution 9 --heatmaps maps --model m.safetensors x.png", "--attribution must be IntegratedGradients, SmoothGrad, Saliency, GuidedBackprop, GuidedGradCam, DeepLift, GradientShap or DeepLiftShap, got 9.")]
    [InlineData("medmnist", "predict", "--attribution DeepLiftShap --heatmaps maps --model m.safetensors x.png", "--attribution DeepLiftShap explains against reference images: give --references PATH (e.g. a few dozen training images).")]
    [InlineData("fundus-folder", "predict", "--attribution GradientShap --heatmaps maps --model m.safetensors x.png", "--attribution GradientShap explains against reference images: give --references PATH (e.g. a few dozen training images).")]
    [InlineData("volume-folder", "predict", "--attribution DeepLiftShap --explain maps --model m.safetensors x.nii.gz", "--attribution DeepLiftShap explains against reference images: give --references PATH (e.g. a few dozen training images).")]
    [InlineData("medmnist", "predict", "--attribution DeepLift --references r.png --heatmaps maps --model m.safetensors x.png", "--references gives the reference images of --attribution GradientShap or DeepLiftShap; give one of them, or leave --references out.")]
    [InlineData("fundus-folder", "predict", "--references r.png --model m.safetensors x.png", "--references gives the reference images of --attribution GradientShap or DeepLiftShap; give one of them, or leave --references out.")]
    [InlineData("volume-folder", "predict", "--references r.nii.gz --explain maps --model m.safetensors x.nii.gz", "--references gives the reference images of --attribution GradientShap or DeepLiftShap; give one of them, or leave --references out.")]
    [InlineData("medmnist", "predict", "--attribution Saliency --model m.safetensors x.png", "--attribution chooses the map for --heatmaps; give --heatmaps FOLDER too.")]
    [InlineData("medmnist", "predict", "--attribution Saliency --cam GradCam --heatmaps maps --model m.safetensors x.png", "--cam and --attribution each choose the map for --heatmaps: give one.")]
    [InlineData("fundus-folder", "predict", "--attribution Saliency --model m.safetensors x.png", "--attribution chooses the map for --heatmaps; give --heatmaps FOLDER too.")]
    [InlineData("medmnist", "profile", "--sort memory", "--sort memory sorts by the memory that --profile-memory records: give it too.")]
    [InlineData("medmnist", "profile", "--sort time", "--sort must be self, total, calls, memory or self-memory, got time.")]
    [InlineData("medmnist", "profile", "--steps 0", "--steps must be at least 1, got 0.")]
    [InlineData("medmnist", "faithfulness", "--model m.safetensors --images 0", "--images must be at least 1, got 0.")]
    [InlineData("medmnist", "faithfulness", "--model m.safetensors --insertion-start black", "--insertion-start must be zeros or blur, got black.")]
    [InlineData("medmnist", "sanity-check", "--model m.safetensors --methods gradcam", "--methods must be all or a comma-separated list of grad-cam, grad-cam++, attention-rollout, gradient-rollout, integrated-gradients, gradient-shap, deeplift, deeplift-shap, smoothgrad, saliency, guided-backprop, guided-grad-cam, occlusion, got gradcam.")]
    [InlineData("medmnist", "faithfulness", "--model m.safetensors --methods ,", "--methods must be all or a comma-separated list of grad-cam, grad-cam++, attention-rollout, gradient-rollout, integrated-gradients, gradient-shap, deeplift, deeplift-shap, smoothgrad, saliency, guided-backprop, guided-grad-cam, occlusion, got ,.")]
    [InlineData("medmnist", "sanity-check", "--model m.safetensors --block-depth -1", "--block-depth must be at least 0, got -1.")]
    [InlineData("medmnist", "sanity-check", "--model m.safetensors --order 4", "--order must be Cascading or Independent, got 4.")]
    [InlineData("volume-folder", "predict", "--attribution Saliency --model m.safetensors x.nii.gz", "--attribution chooses the map for --explain; give --explain FOLDER too.")]
    [InlineData("medmnist", "evaluate", "--threads -1 --model m.safetensors", "--threads must be at least 1, got -1.")]
    [InlineData("medmnist", "cross-validate", "--folds 1", "--folds must be at least 2, got 1.")]
    [InlineData("medmnist", "compare", "--resamples 10 --model a.safetensors --against b.safetensors", "--resamples must be at least 100, got 10.")]
    [InlineData("medmnist", "compare", "--split train --model a.safetensors --against b.safetensors", "--split must be test or val, got train.")]
    [InlineData("medmnist", "export", "--fixed-batch 0 --model m.safetensors", "--fixed-batch must be at least 1, got 0.")]
    [InlineData("mtcsnn", "compare", "--lambda -1", "--lambda must be a finite number ≥ 0, got -1.")]
    [InlineData("mtcsnn", "compare", "--seeds 1,x", "--seeds must be comma-separated integers, got 1,x.")]
    [InlineData("mtcsnn", "compare", "--batch 1", "--batch must be at least 2 (MTCSNN pairs the images of a batch), got 1.")]
    [InlineData("mtcsnn", "compare", "--depth 20", "--depth must be 18, 34, 50, 101 or 152, got 20.")]
    [InlineData("mtcsnn", "compare", "--stem tiny", "--stem must be imagenet or small, got tiny.")]
    [InlineData("mtcsnn", "compare", "--batch 6 --world-size 4", "--batch 6 must split evenly over the 4 processes of --world-size, at least 2 images each.")]
    [InlineData("cdsf", "run", "--size 38", "--size must be divisible by 4 and at least 33 (e.g. 36), got 38.")]
    [InlineData("cdsf", "run", "--missing-pet NaN", "--missing-pet must be in [0, 1), got NaN.")]
    [InlineData("cdsf", "run", "--test-fraction 0", "--test-fraction must be in (0, 1), got 0.")]
    [InlineData("cdsf", "run", "--subjects 7", "--subjects must be at least 8, got 7.")]
    [InlineData("cdsf", "run", "--residual-blocks 0", "--residual-blocks must be in 1…1000, got 0.")]
    [InlineData("cdsf", "run", "--voxel-weight -1", "--voxel-weight must be a finite number ≥ 0, got -1.")]
    [InlineData("cdsf", "run", "--synthesis-lr 0", "--synthesis-lr must be a positive number, got 0.")]
    [InlineData("fundus-folder", "train", "--depth 20", "--depth must be 18, 34, 50, 101 or 152, got 20.")]
    [InlineData("fundus-folder", "train", "--size 0", "--size must be at least 1, got 0.")]
    [InlineData("mvlaunch", "mvlaunch", "--nnodes 2 --node-rank 2 -- x", "--node-rank must be in 0…1 (--nnodes 2), got 2.")]
    [InlineData("mvlaunch", "mvlaunch", "--master-port 0 --nnodes 2 -- x", "--master-port 0 (a free port) works on one machine only; give the same port on every node.")]
    [InlineData("mvlaunch", "mvlaunch", "--nproc-per-node 0 -- x", "--nproc-per-node must be at least 1, got 0.")]
    [InlineData("mvlaunch", "mvlaunch", "--threads-per-process 0 -- x", "--threads-per-process must be at least 1, got 0.")]
    public void BadValuesAndCombinations_AreNamed(string app, string command, string args, string message)
    {
        Problems(app, CommandOf(app, command), args.Split(' ')).Should().Contain(message);
    }

    [Theory]
    [InlineData("medmnist", "train", "")]
    [InlineData("medmnist", "train", "--rank 1 --world-size 2 --batch 64 --mixup 0.2 --model ResNet50 --resolution 224 --device cuda:1")]
    [InlineData("medmnist", "train", "--optimizer radam --weight-decay 0 --schedule cosine --warmup-epochs 5 --epochs 10")]
    [InlineData("medmnist", "train", "--optimizer sgd --swa-lr 0.005 --swa-start 0 --swa-anneal-epochs 0")]
    [InlineData("medmnist", "train", "--optimizer sgd --schedule warm-restarts --restart-epochs 5 --restart-mult 2")]
    [InlineData("medmnist", "predict", "--flips Horizontal,Vertical --cam GradCamPlusPlus --model m.safetensors x.png")]
    [InlineData("medmnist", "predict", "--attribution SmoothGrad --heatmaps maps --model m.safetensors x.png")]
    [InlineData("mtcsnn", "compare", "--stem Small --seeds 3,4 --lambda 0 --batch 8 --world-size 4")]
    [InlineData("cdsf", "run", "--size 40 --missing-pet 0 --voxel-weight 0")]
    [InlineData("fundus-folder", "train", "--demo --depth 18")]
    [InlineData("mvlaunch", "mvlaunch", "--nproc-per-node 2 --master-port 0 -- dotnet x.dll")]
    public void GoodCommandLines_HaveNoProblems(string app, string command, string args)
    {
        Problems(app, CommandOf(app, command), args.Length == 0 ? [] : args.Split(' ')).Should().BeEmpty();
    }

    [Fact]
    public void ExtremeValuesOfEveryCheckedOption_GetAMessageNamingTheOption()
    {
        string[] values = ["-1", "0", "NaN", "-Infinity", "1e308", "2147483647", "-2147483648", "99999999999", "abc", ""];
        foreach (var (app, command) in Commands())
        {
            foreach (var option in command.Options.Where(o => o.Validators.Count > 0))
            {
                foreach (var value in values)
                {
                    var problems = Problems(app, command, option.Name, value);
                    // besides the problem with the value: the arguments and required options this command line leaves out
                    problems.Where(p => !p.Contains(option.Name, StringComparison.Ordinal) && !p.StartsWith("Required argument missing", StringComparison.Ordinal)
                        && !command.Options.Any(o => o.Required && p == $"Option '{o.Name}' is required."))
                        .Should().BeEmpty($"{app} {command.Name} {option.Name} '{value}' gave [{string.Join(" | ", problems)}]");
                }
            }
        }
    }

    [Fact]
    public void DatasetNames_AreCheckedAgainstTheCatalogue()
    {
        Problems("medmnist", CommandOf("medmnist", "train"), "--dataset", "organmnist3d").Should().BeEmpty("3-D datasets train 3-D ResNets");
        Problems("medmnist", CommandOf("medmnist", "train"), "--dataset", "organmnist4d").Should().ContainSingle()
            .Which.Should().StartWith("--dataset must be a MedMNIST dataset (pathmnist, chestmnist, ").And.EndWith(", got organmnist4d.");
        Problems("medmnist", CommandOf("medmnist", "evaluate"), "--dataset", "organmnist3d", "--model", "m.safetensors").Should().BeEmpty();
        Problems("medmnist", CommandOf("medmnist", "evaluate"), "--dataset", "nosuchmnist", "--model", "m.safetensors").Should().ContainSingle()
            .Which.Should().Contain("organmnist3d").And.EndWith("got nosuchmnist.");
        Problems("medmnist", CommandOf("medmnist", "train"), "--dataset", "BloodMNIST").Should().BeEmpty("names are matched ignoring case");
    }

    [Fact]
    public void RuntimeErrors_LoseWhatDotNetAppendsForDevelopers()
    {
        var message = Assembly.Load("medmnist").GetType("MedVision.Samples.SampleCommandLine", throwOnError: true)!
            .GetMethod("Message", BindingFlags.Static | BindingFlags.NonPublic)!;
        string Of(Exception e) => (string)message.Invoke(null, [e])!;
        Of(new ArgumentOutOfRangeException("alpha", -1.0, "α must be positive.")).Should().Be("α must be positive.");
        Of(new ArgumentException("The model has 3 classes.", "model")).Should().Be("The model has 3 classes.");
        Of(new IOException("Disk full.")).Should().Be("Disk full.");
    }

    [Fact]
    public async Task AUserSeesEveryProblemOnALine_AndNothingStarts()
    {
        using var folder = new TempFolder();
        var run = await SampleApp.RunAsync("medmnist", folder.Path, "train", "--world-size", "0", "--epochs", "0", "--output", folder["run"]);
        run.ExitCode.Should().Be(2, run.ToString());
        run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal(
            "error: --epochs must be at least 1, got 0.", "error: --world-size must be at least 1, got 0.", "Run 'medmnist train --help' for the options.");
        run.Output.Should().BeEmpty("nothing is loaded or trained");
        Directory.Exists(folder["run"]).Should().BeFalse();
    }
}
