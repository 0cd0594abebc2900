import PitIngest
import Testing

@Suite struct AdmissionControlTests {
    private func shareShed(_ control: inout AdmissionControl, draws: Int = 10_000) -> Double {
        var shed = 0
        for _ in 0..<draws where !control.admit() { shed += 1 }
        return Double(shed) / Double(draws)
    }

    @Test func admitsEverythingBelowTarget() {
        var control = AdmissionControl()
        for _ in 0..<1000 { control.update(delay: 0.001) }
        #expect(control.shedShare == 0)
        #expect(shareShed(&control) == 0)
    }

    @Test func shedsInProportionToExcessDelayAndRecovers() {
        var control = AdmissionControl(configuration: .init(target: 0.005))
        control.update(delay: 0.010)
        let first = control.shedShare
        #expect(first > 0 && first < 0.5)
        for _ in 0..<10 { control.update(delay: 0.010) }
        #expect(control.shedShare > first)
        let measured = shareShed(&control)
        #expect(abs(measured - control.shedShare) < 0.03)
        // Back below half the target, the share decays to zero.
        for _ in 0..<200 { control.update(delay: 0.0005) }
        #expect(control.shedShare == 0)
    }

    @Test func holdsBetweenHalfTargetAndTarget() {
        var control = AdmissionControl(configuration: .init(target: 0.005))
        for _ in 0..<5 { control.update(delay: 0.015) }
        let share = control.shedShare
        for _ in 0..<50 { control.update(delay: 0.004) }
        #expect(control.shedShare == share)
    }

    @Test func hardLimitShedsTheMaximumAtOnceButNeverEverything() {
        var control = AdmissionControl(configuration: .init(target: 0.005, maximumShare: 0.95, hardLimitFactor: 8))
        control.update(delay: 0.050)
        #expect(control.shedShare == 0.95)
        let measured = shareShed(&control)
        #expect(measured > 0.9 && measured < 1)
    }

    @Test func zeroTargetTurnsSheddingOff() {
        var control = AdmissionControl(configuration: .init(target: 0))
        for _ in 0..<100 { control.update(delay: 10) }
        #expect(control.shedShare == 0)
        #expect(shareShed(&control, draws: 100) == 0)
    }
}

@Suite struct AdmissionControlIntervalTests {
    @Test func lateButNotSaturatedLoopIsNotBacklog() {
        // Another process took the core: the loop was late but slept in epoll most of the time.
        var control = AdmissionControl(configuration: .init(target: 0.005))
        for _ in 0..<50 { control.update(.init(loopDelay: 0.030, onCPU: 0.1, waitingForCPU: 0.2, queueDelay: 0)) }
        #expect(control.shedShare == 0)
    }

    @Test func saturatedAndLateLoopSheds() {
        var control = AdmissionControl(configuration: .init(target: 0.005))
        for _ in 0..<3 { control.update(.init(loopDelay: 0.012, onCPU: 0.9, waitingForCPU: 0.07, queueDelay: 0)) }
        #expect(control.shedShare > 0.2)
    }

    @Test func aWriterFallingBehindShedsWhateverTheLoops() {
        var control = AdmissionControl(configuration: .init(target: 0.005))
        control.update(.init(loopDelay: 0, onCPU: 0.1, waitingForCPU: 0, queueDelay: 0.030))
        #expect(control.shedShare == 0)  // a commit or two of waiting is group commit at work
        control.update(.init(loopDelay: 0, onCPU: 0.1, waitingForCPU: 0, queueDelay: 0.5))
        #expect(control.shedShare == control.configuration.maximumShare)
    }

    @Test func unknownBusyCountsTheLateness() {
        let control = AdmissionControl(configuration: .init(target: 0.005))
        let control2 = AdmissionControl(configuration: .init(target: 0.005, queueTarget: 0.005))
        #expect(control2.delay(of: .init(loopDelay: 0.02, onCPU: nil, waitingForCPU: nil, queueDelay: 0.001)) == 0.02)
        #expect(control2.delay(of: .init(loopDelay: 0.02, onCPU: 0.1, waitingForCPU: 0.1, queueDelay: 0.001)) == 0.001)
        #expect(control.delay(of: .init(loopDelay: 0, onCPU: 0.1, waitingForCPU: 0, queueDelay: 0.1)) == 0.005)
    }

    @Test func contentionCountsOnlyForALoopThatUsesTheCPU() {
        let control = AdmissionControl(configuration: .init(target: 0.005, contentionTarget: 0.2, minimumOnCPU: 0.2))
        // Busy neighbours, an almost idle pitd: shedding its few requests would help no one.
        #expect(control.delay(of: .init(loopDelay: 0, onCPU: 0.05, waitingForCPU: 0.6, queueDelay: 0)) == 0)
        // pitd on a CPU 45 % of the time and waiting for one 40 %: twice the contention target.
        #expect(abs(control.delay(of: .init(loopDelay: 0, onCPU: 0.45, waitingForCPU: 0.4, queueDelay: 0)) - 0.010) < 1e-9)
    }
}
